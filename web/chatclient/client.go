// Package chatclient is a small Go client for Xiaoer's shopper chat socket
// (protocol v1, docs/protocol.md). Tests use it, and so will the load
// generator and integrators who want to script a conversation.
package chatclient

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Frame is any server frame; which fields are set depends on Type.
type Frame struct {
	Type string `json:"type"`
	// hello
	Conversation string   `json:"conversation,omitempty"`
	LastSeq      int64    `json:"last_seq,omitempty"`
	Shopper      *Shopper `json:"shopper,omitempty"`
	Lang         string   `json:"lang,omitempty"`
	Visitor      string   `json:"visitor,omitempty"`
	// ack, message, error
	ClientID string `json:"client_id,omitempty"`
	Seq      int64  `json:"seq,omitempty"`
	// message, delta
	ID          string   `json:"id,omitempty"`
	N           int64    `json:"n,omitempty"` // delta: the chunk's number, from 0
	Role        string   `json:"role,omitempty"`
	Text        string   `json:"text,omitempty"`
	ReplyTo     string   `json:"reply_to,omitempty"`
	Sources     []Source `json:"sources,omitempty"`
	Cards       []Card   `json:"cards,omitempty"`
	Suggestions []string `json:"suggestions,omitempty"`
	// Personalized names the profile fields a reply used.
	Personalized []string `json:"personalized,omitempty"`
	CreatedAt    string   `json:"created_at,omitempty"`
	// handoff
	Status   string `json:"status,omitempty"`
	Position int    `json:"position,omitempty"`
	// error
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Raw is the frame as received.
	Raw json.RawMessage `json:"-"`
}

// Shopper is the verified shopper named in hello.
type Shopper struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Source is a knowledge entry a reply cites.
type Source struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Card is a structured card; kind "order" sets the order fields.
type Card struct {
	Kind        string `json:"kind"`
	OrderID     string `json:"order_id,omitempty"`
	Status      string `json:"status,omitempty"`
	StatusText  string `json:"status_text,omitempty"`
	Carrier     string `json:"carrier,omitempty"`
	TrackingNo  string `json:"tracking_no,omitempty"`
	ReturnUntil string `json:"return_until,omitempty"`
	// return cards
	ProposalID string `json:"proposal_id,omitempty"`
	ReturnID   string `json:"return_id,omitempty"`
	// product cards
	SKU      string `json:"sku,omitempty"`
	Name     string `json:"name,omitempty"`
	Price    string `json:"price,omitempty"`
	Category string `json:"category,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Options are the handshake's query parameters.
type Options struct {
	Token        string // signed shopper token
	Visitor      string // anonymous visitor id
	Conversation string // resume this conversation...
	After        int64  // ...replaying messages with seq > After
	Lang         string // "zh" or "en"
	Origin       string // Origin header; default: the server's own http origin
}

// Client is one chat socket. Its methods are not safe for concurrent use.
type Client struct {
	ws    *websocket.Conn
	Hello Frame
}

// Dial connects to a chat socket URL (ws://host/ws/chat) and reads hello.
// A refused handshake returns an error that includes the HTTP status.
func Dial(ctx context.Context, wsURL string, opts Options) (*Client, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, fmt.Errorf("chatclient: %w", err)
	}
	q := u.Query()
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("token", opts.Token)
	set("visitor", opts.Visitor)
	set("conversation", opts.Conversation)
	set("lang", opts.Lang)
	if opts.Conversation != "" {
		q.Set("after", strconv.FormatInt(opts.After, 10))
	}
	u.RawQuery = q.Encode()
	h := http.Header{}
	origin := opts.Origin
	if origin == "" {
		origin = "http://" + u.Host
	}
	h.Set("Origin", origin)
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			return nil, &HandshakeError{Status: resp.StatusCode, Err: err}
		}
		return nil, fmt.Errorf("chatclient: dial: %w", err)
	}
	c := &Client{ws: ws}
	f, err := c.Next(ctx)
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("chatclient: no hello: %w", err)
	}
	if f.Type != "hello" {
		ws.Close()
		return nil, fmt.Errorf("chatclient: first frame is %q, want hello", f.Type)
	}
	c.Hello = f
	return c, nil
}

// HandshakeError is a refused websocket handshake.
type HandshakeError struct {
	Status int
	Err    error
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("chatclient: handshake refused with HTTP %d: %v", e.Status, e.Err)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// Close closes the socket.
func (c *Client) Close() error { return c.ws.Close() }

// Conn returns the underlying websocket, for tests that send raw frames.
func (c *Client) Conn() *websocket.Conn { return c.ws }

// Next reads the next frame, waiting until ctx is done.
func (c *Client) Next(ctx context.Context) (Frame, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.ws.SetReadDeadline(dl)
	} else {
		c.ws.SetReadDeadline(time.Time{})
	}
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return Frame{}, err
	}
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return Frame{}, fmt.Errorf("chatclient: frame is not JSON: %q", data)
	}
	f.Raw = data
	return f, nil
}

// NewClientID returns a random client_id.
func NewClientID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Send sends a shopper message with the given client id.
func (c *Client) Send(clientID, text string) error {
	return c.SendFrame(map[string]any{"type": "message", "client_id": clientID, "text": text})
}

// SendFrame sends any frame as JSON.
func (c *Client) SendFrame(v any) error {
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteJSON(v)
}

// Exchange is what came back for one message.
type Exchange struct {
	Ack    Frame
	Reply  Frame   // the reply: a bot, agent or system message with reply_to = the client id
	Frames []Frame // every frame seen on the way, in order
}

// ErrFrame is returned by Ask when the server answered with an error frame.
var ErrFrame = errors.New("chatclient: error frame")

// Ask sends text and waits for its ack and its reply.
func (c *Client) Ask(ctx context.Context, text string) (Exchange, error) {
	return c.AskWithID(ctx, NewClientID(), text)
}

// Resend sends a message again with a client id already used and returns
// its ack. A message the server already answered gets only the ack, so
// Resend does not wait for a reply.
func (c *Client) Resend(ctx context.Context, clientID, text string) (Frame, error) {
	if err := c.Send(clientID, text); err != nil {
		return Frame{}, err
	}
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return Frame{}, fmt.Errorf("chatclient: waiting for the ack of %q: %w", clientID, err)
		}
		switch {
		case f.Type == "ack" && f.ClientID == clientID:
			return f, nil
		case f.Type == "error" && f.ClientID == clientID:
			return f, fmt.Errorf("%w: %s: %s", ErrFrame, f.Code, f.Message)
		}
	}
}

// AskWithID is Ask with a chosen client id, for a message not sent before.
func (c *Client) AskWithID(ctx context.Context, clientID, text string) (Exchange, error) {
	var ex Exchange
	if err := c.Send(clientID, text); err != nil {
		return ex, err
	}
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return ex, fmt.Errorf("chatclient: waiting for the reply to %q: %w", text, err)
		}
		ex.Frames = append(ex.Frames, f)
		switch {
		case f.Type == "ack" && f.ClientID == clientID:
			ex.Ack = f
		case f.Type == "error" && f.ClientID == clientID:
			return ex, fmt.Errorf("%w: %s: %s", ErrFrame, f.Code, f.Message)
		case f.Type == "message" && f.Role != "shopper" && f.ReplyTo == clientID:
			ex.Reply = f
			return ex, nil
		}
	}
}
