package envelope

import "encoding/json"

// jsonMarshalUnchecked encodes a record without validating it, to build
// malformed fixtures.
func jsonMarshalUnchecked(r *Record) ([]byte, error) { return json.Marshal(r) }
