package web

import (
	"errors"
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

// conn is one websocket. It has exactly one reader (the socket's own
// goroutine, see chatSocket.read) and at most one writer at a time (write);
// everything else reaches the socket through deliver, which never blocks.
//
// An idle socket holds no writer goroutine: start arms a ping timer, and
// a writer goroutine runs only while there is something to send (queued
// frames, a due ping, the close frame), exiting when the queue is empty.
// The writing flag, under mu, keeps it to one writer at a time, so frames
// still go out in order and gorilla's one-writer rule holds.
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
	room      chan struct{} // signalled when the writer took frames (capacity 1)
	buffering bool          // while replaying history, live frames wait in pending
	pending   []outFrame    // live frames that arrived during the replay
	lastSeq   int64         // highest message seq queued to this socket
	started   bool          // start was called: frames and closes go to a writer
	writing   bool          // a write goroutine is running
	pingDue   bool          // the ping timer fired; the writer sends a ping
	pinger    *time.Timer   // fires every PongWait*9/10 (pingSoon); nil before start
	closed    bool

	quit      chan struct{} // closed by close(): the writer sends a close frame and stops
	closeCode int
	closeText string
	done      chan struct{} // closed when the last writer has closed the socket
}

func newConn(ws *websocket.Conn, cfg *Config, log *slog.Logger) *conn {
	return &conn{
		ws:        ws,
		cfg:       cfg,
		log:       log,
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
	c.wakeLocked()
}

// wakeLocked starts a writer unless one is running (or start has not been
// called yet: frames then wait in the queue, as they do in tests of a conn
// without a websocket).
func (c *conn) wakeLocked() {
	if !c.started || c.writing {
		return
	}
	c.writing = true
	// Owned by this conn; returns when there is nothing left to write, or
	// after closing the socket once it is closed (see write).
	go c.write()
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
	c.wakeLocked()
}

// pingEvery is the ping period: 9/10 of the time a silent client is kept,
// so a live client's pong always comes in time.
func (c *conn) pingEvery() time.Duration { return c.cfg.PongWait * 9 / 10 }

// start begins writing to the socket: from now on a writer runs whenever
// something is queued, and a ping goes out every pingEvery. Call it once,
// with a websocket, before the socket's first frame is expected.
func (c *conn) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started = true
	c.pinger = time.AfterFunc(c.pingEvery(), c.pingSoon)
	if len(c.queue) > 0 || c.closed {
		c.wakeLocked()
	}
}

// pingSoon runs on the ping timer's goroutine: it asks the writer for a
// ping, and the writer arms the timer again once the ping is out.
func (c *conn) pingSoon() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.pingDue = true
	c.wakeLocked()
}

// errConnClosed stops a batch of writes once the socket is closed.
var errConnClosed = errors.New("web: socket closed")

// write is the socket's writer, started by wakeLocked; at most one runs at
// a time. It writes queued frames and due pings, each with a deadline of
// WriteWait, until there is nothing left, and returns. Once the socket is
// closed it drops what is still queued, sends the close frame (unless the
// connection already failed) and closes the connection, which ends the
// reader; then done is closed. A failed write closes the socket.
func (c *conn) write() {
	for {
		c.mu.Lock()
		if c.closed {
			c.queue = nil
			c.mu.Unlock()
			c.finish()
			return
		}
		frames, ping := c.queue, c.pingDue
		c.queue, c.pingDue = nil, false
		if len(frames) == 0 && !ping {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if len(frames) > 0 {
			signal(c.room)
		}
		if err := c.writeFrames(frames, ping); err != nil {
			c.close(websocket.CloseAbnormalClosure, "")
		}
	}
}

// writeFrames writes frames and then, when ping is set, a ping; it stops
// early once the socket is closed.
func (c *conn) writeFrames(frames []outFrame, ping bool) error {
	for _, f := range frames {
		select {
		case <-c.quit:
			return errConnClosed
		default:
		}
		c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, f.data); err != nil {
			return err
		}
	}
	if ping {
		if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteWait)); err != nil {
			return err
		}
		c.pinger.Reset(c.pingEvery())
	}
	return nil
}

// finish ends a closed socket, on the last writer: it stops the pings,
// sends the close frame unless the connection failed, closes the
// connection and closes done.
func (c *conn) finish() {
	c.pinger.Stop()
	if c.closeCode != websocket.CloseAbnormalClosure {
		msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.cfg.WriteWait))
	}
	c.ws.Close()
	close(c.done)
}
