package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/registra-pki/registra/store"
)

// ExampleNode_Apply opens a single-node store, commits a batch of typed
// commands and searches it.
func ExampleNode_Apply() {
	dir, err := os.MkdirTemp("", "registra-store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	_, err = s.Apply(ctx, &store.Batch{Org: "org-1", IdempotencyKey: "request-1", Commands: []store.Command{
		store.PutOrganisation{Organisation: store.Organisation{ID: "org-1", Name: "Comune di Pescara"}},
		store.PutOperator{Operator: store.Operator{ID: "op-1", OrgID: "org-1", Username: "mrossi", Role: "rao"}},
		store.PutHolder{Holder: store.HolderIdentity{ID: "h-1", TaxCode: "DNNGRL63A12H501X", FirstName: "Gabriele",
			Surname: "D'Annunzio", Email: "g.dannunzio@example.it"}},
		store.PutOrder{Order: store.Order{ID: "ord-1", OrgID: "org-1", OperatorID: "op-1", HolderID: "h-1",
			ProductType: "firma-remota", CreatedAt: at}, InitialStatus: store.StatusToIdentify},
		store.AppendAudit{Event: store.AuditEvent{OrgID: "org-1", At: at, ActorID: "op-1", Action: "order.create", Subject: "ord-1"}},
	}})
	if err != nil {
		log.Fatal(err)
	}

	snap, err := s.Snapshot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer snap.Close()
	page, err := snap.Search(store.SearchQuery{Org: "org-1", PersonalData: true,
		Surname: "D'ANNUNZIO", FirstName: "gabriele", TaxCode: "DNNGRL63A12H501X"})
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range page.Hits {
		fmt.Println(h.Order.ID, h.Status.Status, h.Holder.Surname)
	}
	_, err = snap.Search(store.SearchQuery{Org: "org-1", PersonalData: true, Surname: "D'ANNUNZIO"})
	fmt.Println(err)
	// Output:
	// ord-1 to_identify D'Annunzio
	// store: query: a search by personal data needs at least 3 parameters, got 1
}
