package gateway

import (
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	// Error details (BadRequest field violations from grpcx.InvalidArgument)
	// are marshalled as Any: their types must be linked in, or the error
	// handler fails to marshal them and answers 500.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/encoding/protojson"
)

// jsonMarshaler is the one JSON form of the REST API: proto field names
// (snake_case, as in the .proto files and the OpenAPI document), unset
// fields left out, unknown request fields refused.
var jsonMarshaler = &runtime.JSONPb{
	MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: false},
	UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
}

// newRESTMux returns the grpc-gateway mux. Errors use grpc-gateway's default
// handler: a JSON google.rpc.Status ({"code", "message", "details"}) with the
// HTTP status of the gRPC code (InvalidArgument and FailedPrecondition 400,
// NotFound 404, Unavailable 503, DeadlineExceeded 504), and unknown paths
// answer 404 in the same form.
func newRESTMux() *runtime.ServeMux {
	return runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, jsonMarshaler),
	)
}
