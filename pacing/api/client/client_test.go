package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/api"
)

func TestReadSSE(t *testing.T) {
	stream := ": heartbeat\n\nid: 7\nevent: result\ndata: {\"attempt_id\":\"a1\",\"result\":\"BUSY\"}\n\n" +
		"id: 8\nevent: other\ndata: {}\n\nid: 9\nevent: result\ndata: {\"attempt_id\":\"a2\",\n" +
		"data: \"result\":\"FAX\"}\n\n"
	out := make(chan Event, 10)
	last := ""
	err := readSSE(context.Background(), strings.NewReader(stream), &last, out)
	if err == nil || !strings.Contains(err.Error(), "ended") {
		t.Fatalf("err = %v", err)
	}
	close(out)
	var got []string
	for ev := range out {
		got = append(got, fmt.Sprintf("%s:%s:%s", ev.ID, ev.Result.AttemptID, ev.Result.Result))
	}
	if want := "7:a1:BUSY 9:a2:FAX"; strings.Join(got, " ") != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	if last != "9" {
		t.Fatalf("last id %q, want 9", last)
	}
}

// TestFollowResumes: after the server drops the stream, Follow reconnects
// with Last-Event-ID and gets only what came after.
func TestFollowResumes(t *testing.T) {
	var mu sync.Mutex
	var lastIDs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		n := len(lastIDs)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "id: %d\nevent: result\ndata: {\"attempt_id\":\"a%d\",\"result\":\"BUSY\"}\n\n", n, n)
	}))
	defer srv.Close()
	c := New(srv.URL, "tok")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := make(chan Event)
	go c.Follow(ctx, "", out)
	for want := 1; want <= 3; want++ {
		ev := <-out
		if ev.ID != fmt.Sprint(want) {
			t.Fatalf("event %q, want %d", ev.ID, want)
		}
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if lastIDs[0] != "" || lastIDs[1] != "1" || lastIDs[2] != "2" {
		t.Fatalf("Last-Event-ID sent: %q", lastIDs)
	}
}

func TestSubmitErrorNamesField(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"required","field":"number","allowed":"3-32 characters"}`))
	}))
	defer srv.Close()
	_, err := New(srv.URL, "tok").Submit(context.Background(), api.OrderRequest{ContactID: "c"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "number" {
		t.Fatalf("err = %v", err)
	}
}
