package web

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Close codes the server sends besides the standard ones.
const (
	// CloseSlowConsumer tells a client that it fell behind (its send queue
	// filled up) and should reconnect and resume from its last seq.
	CloseSlowConsumer = 4008
)

// conn is one websocket. It has exactly one reader (the handler goroutine,
// see chatSocket.readLoop) and one writer (writePump); everything else
// reaches the socket through deliver, which never blocks.
//
// The send queue is a slice under mu rather than a channel: a channel of
// SendQueue frames is allocated whole for every socket (10 KB at the
// default 256), while an idle socket's slice holds nothing.
type conn struct {
	ws  *websocket.Conn
	cfg *Config
	log *slog.Logger

	mu        sync.Mutex
	queue     []outFrame    // frames for the writer, at most cfg.SendQueue
	wake      chan struct{} // signalled when queue gains frames (capacity 1)
	room      chan struct{} // signalled when the writer took frames (capacity 1)
	buffering bool          // while replaying history, live frames wait in pending
	pending   []outFrame    // live frames that arrived during the replay
	lastSeq   int64         // highest message seq queued to this socket
	closed    bool

	quit      chan struct{} // closed by close(): the writer sends a close frame and stops
	closeCode int
	closeText string
	done      chan struct{} // closed when writePump has returned
}

func newConn(ws *websocket.Conn, cfg *Config, log *slog.Logger) *conn {
	return &conn{
		ws:        ws,
		cfg:       cfg,
		log:       log,
		wake:      make(chan struct{}, 1),
		room:      make(chan struct{}, 1),
		buffering: true,
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
	}
}

// deliver queues a live frame without blocking. Slow-consumer policy:
// ephemeral frames (typing) are dropped once the queue is half full; any
// other frame that finds the queue full closes the socket with
// CloseSlowConsumer, and the client resumes from its last seq, so nothing
// is lost. A message frame with a seq already queued is skipped.
func (c *conn) deliver(f outFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.buffering {
		c.pending = append(c.pending, f)
		return
	}
	c.enqueueLocked(f)
}

func (c *conn) enqueueLocked(f outFrame) {
	if f.seq > 0 && f.seq <= c.lastSeq {
		return
	}
	if f.ephemeral && len(c.queue) >= c.cfg.SendQueue/2 {
		return
	}
	if len(c.queue) >= c.cfg.SendQueue {
		c.log.Warn("slow consumer disconnected", "queued", len(c.queue))
		c.closeLocked(CloseSlowConsumer, "slow consumer: reconnect and resume")
		return
	}
	c.pushLocked(f)
}

// pushLocked appends f to the queue and wakes the writer.
func (c *conn) pushLocked(f outFrame) {
	c.queue = append(c.queue, f)
	if f.seq > c.lastSeq {
		c.lastSeq = f.seq
	}
	signal(c.wake)
}

// signal sets a capacity-1 channel without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// replay queues a history frame, waiting for room: it runs on the handler
// goroutine before the socket goes live, so waiting blocks no one else.
// It returns false when the socket closed meanwhile.
func (c *conn) replay(f outFrame) bool {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false
		}
		if len(c.queue) < c.cfg.SendQueue {
			c.pushLocked(f)
			c.mu.Unlock()
			return true
		}
		c.mu.Unlock()
		select {
		case <-c.room:
		case <-c.quit:
			return false
		}
	}
}

// take hands the writer every queued frame and makes room.
func (c *conn) take() []outFrame {
	c.mu.Lock()
	frames := c.queue
	c.queue = nil
	c.mu.Unlock()
	if len(frames) > 0 {
		signal(c.room)
	}
	return frames
}

// queued reports how many frames wait for the writer.
func (c *conn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// goLive flushes the frames that arrived during the replay (skipping those
// the replay already sent) and switches to direct delivery.
func (c *conn) goLive() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.pending {
		if c.closed {
			break
		}
		c.enqueueLocked(f)
	}
	c.pending = nil
	c.buffering = false
}

// close asks the writer to send a close frame with code and stop. It is
// safe to call from any goroutine, more than once.
func (c *conn) close(code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, text)
}

func (c *conn) closeLocked(code int, text string) {
	if c.closed {
		return
	}
	c.closed = true
	c.closeCode, c.closeText = code, text
	close(c.quit)
}

// writePump is the socket's only writer. It is started by the chat handler
// and returns when the socket is closed (close was called, or a write
// failed); it then closes the underlying connection, which ends the reader.
func (c *conn) writePump() {
	ticker := time.NewTicker(c.cfg.PongWait * 9 / 10)
	defer func() {
		ticker.Stop()
		c.ws.Close()
		close(c.done)
	}()
	for {
		select {
		case <-c.wake:
			for _, f := range c.take() {
				c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
				if err := c.ws.WriteMessage(websocket.TextMessage, f.data); err != nil {
					c.close(websocket.CloseAbnormalClosure, "")
					return
				}
			}
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteWait)); err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.quit:
			if c.closeCode != websocket.CloseAbnormalClosure {
				msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
				c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.cfg.WriteWait))
			}
			return
		}
	}
}
