package outbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/call"
	bolt "go.etcd.io/bbolt"
)

// LogRaw hands out exactly the bytes that decoding Log's event and encoding
// it again gives (what GET /v1/events used to send), for results with every
// part filled in and for agent events, page by page, reusing its buffers.
func TestLogRawMatchesLog(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	at := time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.UTC)
	for i := range 7 {
		id, _, err := s.Accept(order(fmt.Sprintf("c%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		res := call.Result{AttemptID: id, Result: call.LiveVoice, Cause: "answered \"hello\" <&>\u2028",
			Timings: call.Timings{Dial: at, Answer: at.Add(2 * time.Second), End: at.Add(time.Minute)},
			CPA:     &call.CPA{Result: "human", DecisionMS: 1640}, Media: &call.MediaStats{}}
		if i%3 == 1 {
			res.Result = call.AnsweringMachine
		}
		if _, err := s.Complete(res); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := s.AppendAgentEvents([]call.AgentEvent{{AgentID: "a1", Type: call.AgentEventState, State: call.AgentAvailable, Time: at,
				Metadata: map[string]string{"z": "1", "a": "2"}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var (
		raws []RawEvent
		buf  []byte
		got  int
	)
	for cursor := uint64(0); ; {
		var err error
		raws, buf, err = s.LogRaw(cursor, 3, raws, buf)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := s.Log(cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(raws) != len(evs) {
			t.Fatalf("after %d: LogRaw %d events, Log %d", cursor, len(raws), len(evs))
		}
		if len(raws) == 0 {
			break
		}
		for i, ev := range evs {
			var v any = &ev.Result
			if ev.Kind == EventAgent {
				v = &ev.Agent
			}
			want, _ := json.Marshal(v)
			if raws[i].ID != ev.ID || raws[i].Kind != ev.Kind || !bytes.Equal(raws[i].Data, want) {
				t.Errorf("event %d: LogRaw %d %v %s\nwant %d %v %s", ev.ID, raws[i].ID, raws[i].Kind, raws[i].Data, ev.ID, ev.Kind, want)
			}
		}
		cursor = raws[len(raws)-1].ID
		got += len(raws)
	}
	if got != 11 { // 7 results, 4 agent events
		t.Errorf("%d events in all, want 11", got)
	}
}

// A stored value that is not JSON is reported as corrupt, never sent; a
// valid value on several lines is put on one (an SSE data line).
func TestLogRawCorruptAndMultiline(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "o.db"))
	put := func(id uint64, v string) {
		t.Helper()
		err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketEvents).Put(binary.BigEndian.AppendUint64(nil, id), []byte(v))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(1, "{\n  \"attemptId\": \"x\",\r\n  \"result\": \"BUSY\"\n}")
	evs, _, err := s.LogRaw(0, 10, nil, nil)
	if err != nil || len(evs) != 1 || string(evs[0].Data) != `{"attemptId":"x","result":"BUSY"}` {
		t.Fatalf("LogRaw = %+v, %v; want one event on one line", evs, err)
	}
	put(2, `{"attemptId": "y", "result": `)
	if _, _, err := s.LogRaw(0, 10, nil, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated JSON: err %v, want ErrCorrupt", err)
	}
	if _, _, err := s.LogRaw(1, 10, nil, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("after the good one: err %v, want ErrCorrupt", err)
	}
	_ = s.Close()
	if _, _, err := s.LogRaw(0, 10, nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("closed store: err %v, want ErrClosed", err)
	}
}
