// Package httpapi is Sigil's HTTP surface: the routes of API.md on a
// stdlib ServeMux, JSON decoding and encoding, the single mapping from
// domain errors to status codes and {"error","detail"} bodies, and the
// middleware every request passes (request ids, logging, metrics, body
// limit, panic recovery).
//
// Handlers decode, call one authn method, encode. Nothing here knows SQL
// or cryptography; the domain never sees *http.Request.
package httpapi
