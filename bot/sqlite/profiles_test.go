package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
)

func TestOrderWriteRecomputesFeaturesInTheSameTransaction(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.PutShop(ctx, Shop{
		Products: []bot.Product{{SKU: "TEA", NameZH: "绿茶", NameEN: "Green tea", Category: "tea", PriceCents: 5000}},
		Shoppers: []bot.Shopper{{ID: "s1", Name: "Li", Gender: "female", PreferredCategories: []string{"tea", "home"}, Personalize: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Profile(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Gender != "female" || !slices.Equal(p.PreferredCategories, []string{"tea", "home"}) || !p.Personalize {
		t.Errorf("profile %+v: gender, preferred categories or consent not kept", p)
	}
	if p.Features == nil || p.Features.Segment != bot.SegmentProspect {
		t.Fatalf("features before any order = %+v, want segment prospect", p.Features)
	}

	order := bot.Order{ID: "XE1", ShopperID: "s1", Status: bot.StatusDelivered, TotalCents: 10000, Payment: "alipay",
		Carrier: "SF", PlacedAt: now.AddDate(0, 0, -5), Items: []bot.OrderItem{{SKU: "TEA", Qty: 2, PriceCents: 5000}}}

	// A transaction that writes the order and then fails leaves neither the
	// order nor its features behind; inside it, the features already count it.
	boom := errors.New("boom")
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.putOrder(ctx, tx, order); err != nil {
			return err
		}
		var n int
		var segment string
		if err := tx.QueryRowContext(ctx, `SELECT orders, segment FROM shopper_features WHERE shopper_id = 's1'`).Scan(&n, &segment); err != nil {
			return err
		}
		if n != 1 || segment != bot.SegmentNew {
			t.Errorf("inside the order's transaction: orders %d segment %q, want 1 and new", n, segment)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction error = %v", err)
	}
	if sh, _ := s.Shopper(ctx, "s1"); sh.Features != nil {
		t.Errorf("features survived a rolled-back order write: %+v", sh.Features)
	}

	if err := s.PutOrder(ctx, order); err != nil {
		t.Fatal(err)
	}
	p, err = s.Profile(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	f := p.Features
	if f == nil || f.Orders != 1 || f.MonetaryCents != 10000 || f.AOVCents != 10000 || f.Segment != bot.SegmentNew ||
		f.RecencyDays != 5 || !slices.Equal(f.FavCategories, []string{"tea"}) || f.PreferredPayment != "alipay" || f.PreferredCarrier != "SF" {
		t.Fatalf("features after the order = %+v", f)
	}

	// Cancelling the order recomputes them again.
	order.Status = bot.StatusCancelled
	if err := s.PutOrder(ctx, order); err != nil {
		t.Fatal(err)
	}
	if p, _ = s.Profile(ctx, "s1"); p.Features.Orders != 0 || p.Features.Segment != bot.SegmentProspect {
		t.Errorf("features after cancelling = %+v, want no orders, prospect", p.Features)
	}

	// Time moves segments: the daily refresh and Profile see it.
	order.Status = bot.StatusDelivered
	if err := s.PutOrder(ctx, order); err != nil {
		t.Fatal(err)
	}
	later := now.AddDate(0, 0, 200)
	if n, err := s.RefreshFeatures(ctx, later); err != nil || n != 1 {
		t.Fatalf("refresh = %d, %v", n, err)
	}
	sh, _ := s.Shopper(ctx, "s1")
	if sh.Features.Segment != bot.SegmentLapsed || sh.Features.RecencyDays != 205 {
		t.Errorf("after the refresh 200 days later: %+v, want lapsed, recency 205", sh.Features)
	}
}

func TestMessagePersonalizedIsStored(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, filepath.Join(t.TempDir(), "x.db"))
	conv, err := s.OpenConversation(ctx, "v:x", "", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := s.AppendMessage(ctx, bot.Message{ConversationID: conv.ID, Role: bot.RoleBot, Text: "Hi Emma",
		Personalized: []string{bot.ProfileFieldName}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.MessagesAfter(ctx, conv.ID, m.Seq-1, 1)
	if err != nil || len(got) != 1 || !slices.Equal(got[0].Personalized, []string{"name"}) {
		t.Fatalf("read back %+v, %v; want personalized [name]", got, err)
	}
}
