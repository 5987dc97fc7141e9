package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKillDuringBurst is issue #10's acceptance 3: SIGKILL while clients
// create orders and revoke products, then a restart on the same data
// directory: every order and revocation the server acknowledged is there.
func TestKillDuringBurst(t *testing.T) {
	t.Parallel()
	sealer, roots := evidenceCA(t)
	dir, api, pub := t.TempDir(), freeAddr(t), freeAddr(t)
	s := startServer(t, dir, api, pub, roots)
	adminToken := s.login(s.admin())
	rao := s.operator(adminToken, demoOrg, "rao1", "rao")
	token := s.login(rao)

	const products = 3
	var ids []string
	for i := range products {
		ids = append(ids, s.issued(t, token, demoOrg, rao.name, sealer, 100+i)["id"].(string))
	}

	var (
		mu      sync.Mutex
		orders  []string // acknowledged orders
		revoked []string // acknowledged revocations
	)
	// Applicants are made here: a client goroutine may not fail the test.
	const perClient = 500
	applicants := make([][]map[string]any, 4)
	for c := range applicants {
		for i := range perClient {
			a, _ := applicant(t, 1000+c*perClient+i)
			applicants[c] = append(applicants[c], a)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			for _, a := range applicants[c] {
				if ctx.Err() != nil {
					return
				}
				r, err := s.try(http.MethodPost, "/v1/orders", token, "application/json",
					map[string]any{"product_type": "remote_signature", "method": "offline", "applicant": a})
				if err != nil {
					return // the server is gone
				}
				if r.status == http.StatusCreated {
					mu.Lock()
					orders = append(orders, r.body["id"].(string))
					mu.Unlock()
				}
			}
		})
	}
	wg.Go(func() {
		for _, id := range ids {
			r, err := s.try(http.MethodPost, "/v1/products/"+id+"/revoke", token, "application/json",
				map[string]any{"requester": "certifier", "motivation": "key_compromise", "publication": "immediate"})
			if err != nil {
				return
			}
			if r.status == http.StatusOK {
				mu.Lock()
				revoked = append(revoked, id)
				mu.Unlock()
			}
		}
	})
	// Kill once the revocations are in and the order burst is running.
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		done := len(revoked) == products && len(orders) >= 20
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		<-time.After(50 * time.Millisecond)
	}
	s.kill()
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, revoked, products, "revocations acknowledged before the kill")
	require.GreaterOrEqual(t, len(orders), 20, "orders acknowledged before the kill")

	s = startServer(t, dir, api, pub, roots)
	token = s.login(rao)
	for _, id := range orders {
		r := s.do(http.MethodGet, "/v1/orders/"+id, token, nil)
		assert.Equalf(t, http.StatusOK, r.status, "acknowledged order %s lost: %s", id, r.raw)
	}
	for _, id := range revoked {
		r := s.do(http.MethodGet, "/v1/products/"+id, token, nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.Equalf(t, "revoked", r.body["status"], "acknowledged revocation of %s lost", id)
	}
	t.Logf("%d orders and %d revocations acknowledged before SIGKILL, all found after restart", len(orders), len(revoked))
	s.stop()
}
