package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/xiaoer-cs/xiaoer/bot"
	"github.com/xiaoer-cs/xiaoer/bot/sqlite"
	"github.com/xiaoer-cs/xiaoer/knowledge"
	"github.com/xiaoer-cs/xiaoer/web/auth"
)

// The demo shop: FAQ entries in zh-CN and en, two shoppers with orders in
// every state, and a small catalog. Times in shop.json are relative
// ("hours_ago"), so the demo's orders look fresh whenever it is loaded.
var (
	//go:embed demo/faq.json
	demoFAQ []byte
	//go:embed demo/shop.json
	demoShop []byte
)

// demoShopperIDs are the shoppers the demo page lets a tester chat as.
var demoShopperIDs = []string{"demo-cn", "demo-en"}

type demoShopFile struct {
	Catalog  []bot.Product `json:"catalog"`
	Shoppers []bot.Shopper `json:"shoppers"`
	Orders   []demoOrder   `json:"orders"`
}

type demoOrder struct {
	ID            string `json:"id"`
	Shopper       string `json:"shopper"`
	Status        string `json:"status"`
	Payment       string `json:"payment"`
	Currency      string `json:"currency"`
	ShippingCents int64  `json:"shipping_cents"`
	Carrier       string `json:"carrier"`
	TrackingNo    string `json:"tracking_no"`
	Items         []struct {
		SKU                    string `json:"sku"`
		Qty                    int    `json:"qty"`
		PriceCents             int64  `json:"price_cents"`
		NonReturnableConfirmed bool   `json:"non_returnable_confirmed"`
	} `json:"items"`
	History []struct {
		Status   string  `json:"status"`
		HoursAgo float64 `json:"hours_ago"`
	} `json:"history"`
	Tracking []struct {
		HoursAgo   float64 `json:"hours_ago"`
		LocationZH string  `json:"location_zh"`
		LocationEN string  `json:"location_en"`
		TextZH     string  `json:"text_zh"`
		TextEN     string  `json:"text_en"`
	} `json:"tracking"`
}

const demoLoadedKey = "demo_loaded_at"

// loadDemo fills an empty data folder with the demo shop. A folder that
// holds anything else (real data, or a finished demo) is left as it is; a
// demo load that was cut off (no demo_loaded_at marker, nothing but demo
// records) is completed. The shop data goes in one transaction, then the
// FAQ, then the marker, so every step can be repeated safely.
func loadDemo(ctx context.Context, d *dataFolder, now time.Time, log *slog.Logger) error {
	marker, err := d.store.Meta(ctx, demoLoadedKey)
	if err != nil {
		return err
	}
	entries, err := knowledge.ReadEntries(bytes.NewReader(demoFAQ), knowledge.FormatJSON)
	if err != nil {
		return fmt.Errorf("demo: faq.json: %w", err)
	}
	onlyDemo, err := holdsOnlyDemo(ctx, d, entries)
	if err != nil {
		return err
	}
	if marker != "" || !onlyDemo {
		log.Info("demo: data folder is not empty, leaving it as it is")
		return nil
	}
	shop, orders, err := parseDemoShop(demoShop, now)
	if err != nil {
		return err
	}
	if err := d.store.PutShop(ctx, sqlite.Shop{Products: shop.Catalog, Shoppers: shop.Shoppers, Orders: orders}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if _, err := d.kb.Import(ctx, entries, knowledge.ImportOptions{Replace: true, By: "demo", SkipRegression: true}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.store.SetMeta(ctx, demoLoadedKey, now.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	log.Info("demo: loaded", "faq_entries", len(entries), "shoppers", len(shop.Shoppers), "orders", len(orders), "products", len(shop.Catalog))
	return nil
}

// holdsOnlyDemo reports whether every shopper and FAQ entry in the folder
// is one of the demo's (true for an empty folder).
func holdsOnlyDemo(ctx context.Context, d *dataFolder, demoEntries []knowledge.Entry) (bool, error) {
	ids, err := d.store.ShopperIDs(ctx)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if !slices.Contains(demoShopperIDs, id) {
			return false, nil
		}
	}
	demo := make(map[string]bool, len(demoEntries))
	for _, e := range demoEntries {
		demo[e.ID] = true
	}
	have, err := d.kb.Entries(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range have {
		if !demo[e.ID] {
			return false, nil
		}
	}
	return true, nil
}

// parseDemoShop reads shop.json and turns its relative times into times before now.
func parseDemoShop(data []byte, now time.Time) (demoShopFile, []bot.Order, error) {
	var f demoShopFile
	if err := json.Unmarshal(data, &f); err != nil {
		return f, nil, fmt.Errorf("demo: shop.json: %w", err)
	}
	products := map[string]bot.Product{}
	for _, p := range f.Catalog {
		products[p.SKU] = p
	}
	ago := func(h float64) time.Time {
		return now.Add(-time.Duration(h * float64(time.Hour))).Truncate(time.Minute)
	}
	var orders []bot.Order
	for _, do := range f.Orders {
		o := bot.Order{ID: do.ID, ShopperID: do.Shopper, Status: do.Status, Payment: do.Payment, Currency: do.Currency,
			ShippingCents: do.ShippingCents, Carrier: do.Carrier, TrackingNo: do.TrackingNo}
		if o.Currency == "" {
			o.Currency = "CNY"
		}
		total := do.ShippingCents
		for _, it := range do.Items {
			p, ok := products[it.SKU]
			if !ok {
				return f, nil, fmt.Errorf("demo: order %s: unknown sku %s", do.ID, it.SKU)
			}
			o.Items = append(o.Items, bot.OrderItem{SKU: it.SKU, NameZH: p.NameZH, NameEN: p.NameEN, Qty: it.Qty,
				PriceCents: it.PriceCents, StatutoryExclusion: p.StatutoryExclusion, NonReturnableConfirmed: it.NonReturnableConfirmed})
			total += it.PriceCents * int64(it.Qty)
		}
		o.TotalCents = total
		for i, h := range do.History {
			at := ago(h.HoursAgo)
			o.History = append(o.History, bot.StatusChange{Status: h.Status, At: at})
			if i == 0 {
				o.PlacedAt = at
			}
			if h.Status == bot.StatusDelivered {
				o.DeliveredAt = at
			}
		}
		if o.PlacedAt.IsZero() {
			return f, nil, fmt.Errorf("demo: order %s has no history", do.ID)
		}
		for _, e := range do.Tracking {
			o.Tracking = append(o.Tracking, bot.TrackingEvent{At: ago(e.HoursAgo), LocationZH: e.LocationZH,
				LocationEN: e.LocationEN, TextZH: e.TextZH, TextEN: e.TextEN})
		}
		orders = append(orders, o)
	}
	return f, orders, nil
}

// demoAdminUser is the admin account --demo creates in a folder without staff.
const demoAdminUser = "admin"

// ensureDemoAdmin creates the demo's admin account, with a generated
// password it returns, when the folder holds the demo and no staff account
// at all; it returns "" otherwise. The password is shown once, never
// stored in clear.
func ensureDemoAdmin(ctx context.Context, d *dataFolder, staff *auth.Service) (string, error) {
	if marker, err := d.store.Meta(ctx, demoLoadedKey); err != nil || marker == "" {
		return "", err
	}
	users, err := staff.Users(ctx)
	if err != nil {
		return "", fmt.Errorf("demo: staff accounts: %w", err)
	}
	if len(users) > 0 {
		return "", nil
	}
	password := auth.GeneratePassword()
	if _, err := staff.CreateUser(ctx, auth.NewUser{Username: demoAdminUser, Password: password, Role: auth.RoleAdmin,
		DisplayName: "Demo admin"}); err != nil {
		return "", fmt.Errorf("demo: create the admin account: %w", err)
	}
	return password, nil
}
