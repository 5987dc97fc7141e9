package store

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// holderSet reads every holder a transaction sees, by ID, with its e-mail.
func holderSet(t *testing.T, txn *dbTxn) map[string]string {
	t.Helper()
	out := map[string]string{}
	it, err := txn.Get(tableHolders, indexID, nil)
	require.NoError(t, err)
	for raw := it.Next(); raw != nil; raw = it.Next() {
		h := raw.(*HolderIdentity)
		out[h.ID] = h.Email
	}
	return out
}

func checkVersion(t *testing.T, txn *dbTxn, want map[string]string) {
	t.Helper()
	require.Equal(t, want, holderSet(t, txn))
	require.NoError(t, (&view{txn: txn}).CheckInvariants())
	for id, email := range want {
		if email == "" {
			continue
		}
		raw, err := txn.First(tableHolders, indexEmail, newKey().fold(email))
		require.NoError(t, err)
		require.NotNil(t, raw, "e-mail of %s", id)
		assert.Equal(t, id, raw.(*HolderIdentity).ID)
	}
}

// TestTxnIsolation writes random inserts, replacements (with an optional
// indexed value set, changed or dropped) and deletes, and checks that read
// transactions keep the version they started on, that an aborted write
// leaves nothing behind, and that every committed version's indexes agree
// with a full scan.
func TestTxnIsolation(t *testing.T) {
	t.Parallel()
	d := newDB(schema())
	rng := rand.New(rand.NewPCG(5, 5))
	model := map[string]string{}
	type version struct {
		txn  *dbTxn
		want map[string]string
	}
	var versions []version
	for round := range 30 {
		before := d.Txn(false)
		next := map[string]string{}
		for k, v := range model {
			next[k] = v
		}
		w := d.Txn(true)
		for range 200 {
			id := fmt.Sprintf("h%04d", rng.IntN(1500))
			switch rng.IntN(4) {
			case 0:
				if _, ok := next[id]; ok {
					require.NoError(t, w.Delete(tableHolders, &HolderIdentity{ID: id}))
					delete(next, id)
					continue
				}
				fallthrough
			default:
				email := ""
				if rng.IntN(3) > 0 {
					email = fmt.Sprintf("%s.%d@example.it", id, round)
				}
				require.NoError(t, w.Insert(tableHolders, &HolderIdentity{ID: id, TaxCode: "T" + id, FirstName: "A", Surname: "B", Email: email}))
				next[id] = email
			}
		}
		// The write is not visible before it commits, not even to a
		// transaction started after it.
		checkVersion(t, before, model)
		checkVersion(t, d.Txn(false), model)
		if round%5 == 4 {
			w.Abort()
			checkVersion(t, d.Txn(false), model)
			continue
		}
		w.Commit()
		w.Abort() // after Commit: nothing
		model = next
		versions = append(versions, version{before, nil}, version{d.Txn(false), model})
		checkVersion(t, d.Txn(false), model)
	}
	// Every version read earlier still reads the same.
	for i := 1; i < len(versions); i += 2 {
		checkVersion(t, versions[i].txn, versions[i].want)
	}
	require.ErrorIs(t, versions[1].txn.Insert(tableHolders, &HolderIdentity{ID: "x"}), errReadTxn)
}

// TestIterateWhileWriting checks that an iterator opened in a write
// transaction walks the records as they were when it was opened, while the
// transaction deletes and inserts in the same table.
func TestIterateWhileWriting(t *testing.T) {
	t.Parallel()
	d := newDB(schema())
	w := d.Txn(true)
	for i := range 500 {
		require.NoError(t, w.Insert(tableHolders, &HolderIdentity{ID: fmt.Sprintf("h%04d", i), TaxCode: "T"}))
	}
	it, err := w.Get(tableHolders, indexID, nil)
	require.NoError(t, err)
	seen := 0
	for raw := it.Next(); raw != nil; raw = it.Next() {
		h := raw.(*HolderIdentity)
		require.Equal(t, fmt.Sprintf("h%04d", seen), h.ID)
		seen++
		require.NoError(t, w.Delete(tableHolders, h))
		require.NoError(t, w.Insert(tableHolders, &HolderIdentity{ID: "z" + h.ID, TaxCode: "T"}))
	}
	require.Equal(t, 500, seen)
	w.Commit()
	n, err := d.Txn(false).Len(tableHolders, indexID)
	require.NoError(t, err)
	require.Equal(t, 500, n)
	require.NoError(t, (&view{txn: d.Txn(false)}).CheckInvariants())
	w2 := d.Txn(true)
	w2.Commit()
	require.ErrorIs(t, w2.Insert(tableHolders, &HolderIdentity{ID: "x"}), errTxnDone)
}
