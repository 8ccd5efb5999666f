package simfleet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// The part of the MySQL client/server protocol a probe uses: the v10
// handshake with any password accepted, text queries answered with result
// sets (several per query, as multi-statements want), ping and quit.

const (
	comQuit   = 0x01
	comInitDB = 0x02
	comQuery  = 0x03
	comPing   = 0x0e

	capLongPassword     = 0x00000001
	capFoundRows        = 0x00000002
	capLongFlag         = 0x00000004
	capConnectWithDB    = 0x00000008
	capProtocol41       = 0x00000200
	capTransactions     = 0x00002000
	capSecureConnection = 0x00008000
	capMultiStatements  = 0x00010000
	capMultiResults     = 0x00020000
	capPluginAuth       = 0x00080000

	capabilities = capLongPassword | capFoundRows | capLongFlag | capConnectWithDB | capProtocol41 |
		capTransactions | capSecureConnection | capMultiStatements | capMultiResults | capPluginAuth

	statusAutocommit  = 0x0002
	statusMoreResults = 0x0008

	typeVarString = 0xfd
	charsetUTF8   = 33
)

// conn is one client connection: packets in, packets out.
type conn struct {
	nc  net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	seq byte
}

func newConn(nc net.Conn) *conn {
	return &conn{nc: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}
}

// readPacket reads one packet and remembers its sequence number.
func (c *conn) readPacket() ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(c.r, head[:]); err != nil {
		return nil, err
	}
	n := int(head[0]) | int(head[1])<<8 | int(head[2])<<16
	c.seq = head[3] + 1
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// writePacket buffers one packet with the next sequence number.
func (c *conn) writePacket(body []byte) {
	head := [4]byte{byte(len(body)), byte(len(body) >> 8), byte(len(body) >> 16), c.seq}
	c.seq++
	c.w.Write(head[:])
	c.w.Write(body)
}

func (c *conn) flush() error { return c.w.Flush() }

// handshake greets the client and accepts whatever it answers.
func (c *conn) handshake(version string, id uint32) error {
	scramble := []byte("abcdefghijklmnopqrst")
	p := []byte{10}
	p = append(p, version...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint32(p, id)
	p = append(p, scramble[:8]...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint16(p, uint16(capabilities&0xffff))
	p = append(p, charsetUTF8)
	p = binary.LittleEndian.AppendUint16(p, statusAutocommit)
	p = binary.LittleEndian.AppendUint16(p, uint16(capabilities>>16))
	p = append(p, 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, scramble[8:]...)
	p = append(p, 0)
	p = append(p, "mysql_native_password"...)
	p = append(p, 0)
	c.seq = 0
	c.writePacket(p)
	if err := c.flush(); err != nil {
		return err
	}
	if _, err := c.readPacket(); err != nil { // the client's response
		return err
	}
	c.writeOK(statusAutocommit)
	return c.flush()
}

func (c *conn) writeOK(status uint16) {
	p := []byte{0x00, 0, 0}
	p = binary.LittleEndian.AppendUint16(p, status)
	p = binary.LittleEndian.AppendUint16(p, 0)
	c.writePacket(p)
}

func (c *conn) writeErr(code uint16, state, msg string) {
	p := []byte{0xff}
	p = binary.LittleEndian.AppendUint16(p, code)
	p = append(p, '#')
	p = append(p, state...)
	p = append(p, msg...)
	c.writePacket(p)
}

func (c *conn) writeEOF(status uint16) {
	p := []byte{0xfe, 0, 0}
	p = binary.LittleEndian.AppendUint16(p, status)
	c.writePacket(p)
}

// resultSet is the answer to one statement: columns and text rows, a nil
// value standing for NULL.
type resultSet struct {
	cols []string
	rows [][]*string
}

// writeResultSet writes rs; more says whether another result follows.
func (c *conn) writeResultSet(rs resultSet, more bool) {
	status := uint16(statusAutocommit)
	if more {
		status |= statusMoreResults
	}
	c.writePacket(appendLenInt(nil, uint64(len(rs.cols))))
	for _, name := range rs.cols {
		p := appendLenString(nil, "def")
		p = appendLenString(p, "")
		p = appendLenString(p, "")
		p = appendLenString(p, "")
		p = appendLenString(p, name)
		p = appendLenString(p, name)
		p = append(p, 0x0c)
		p = binary.LittleEndian.AppendUint16(p, charsetUTF8)
		p = binary.LittleEndian.AppendUint32(p, 1024)
		p = append(p, typeVarString, 0, 0, 0, 0, 0)
		c.writePacket(p)
	}
	c.writeEOF(statusAutocommit)
	for _, row := range rs.rows {
		var p []byte
		for _, v := range row {
			if v == nil {
				p = append(p, 0xfb)
			} else {
				p = appendLenString(p, *v)
			}
		}
		c.writePacket(p)
	}
	c.writeEOF(status)
}

func appendLenInt(p []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(p, byte(n))
	case n < 1<<16:
		return binary.LittleEndian.AppendUint16(append(p, 0xfc), uint16(n))
	case n < 1<<24:
		return append(p, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(p, 0xfe), n)
}

func appendLenString(p []byte, s string) []byte {
	return append(appendLenInt(p, uint64(len(s))), s...)
}

// errQuit ends a connection the client closed.
var errQuit = errors.New("client quit")

// serve answers commands until the client quits or the connection breaks;
// answer returns the results of a query's statements, or an error packet's
// message for the first statement it cannot answer.
func (c *conn) serve(answer func(query string) ([]resultSet, error)) error {
	for {
		cmd, err := c.readPacket()
		if err != nil {
			return err
		}
		if len(cmd) == 0 {
			return errors.New("empty command")
		}
		switch cmd[0] {
		case comQuit:
			return errQuit
		case comPing, comInitDB:
			c.writeOK(statusAutocommit)
		case comQuery:
			results, err := answer(string(cmd[1:]))
			for i, rs := range results {
				c.writeResultSet(rs, i < len(results)-1 || err != nil)
			}
			if err != nil {
				c.writeErr(1064, "42000", err.Error())
			} else if len(results) == 0 {
				c.writeOK(statusAutocommit)
			}
		default:
			c.writeErr(1047, "08S01", fmt.Sprintf("unknown command %d", cmd[0]))
		}
		if err := c.flush(); err != nil {
			return err
		}
	}
}
