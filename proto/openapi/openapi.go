// Package openapi holds the OpenAPI (Swagger 2.0) document of Vigil's REST API,
// generated from the protobuf definitions.
package openapi

import _ "embed"

// Document is the merged OpenAPI document for every REST endpoint.
//
//go:embed vigil.swagger.json
var Document []byte
