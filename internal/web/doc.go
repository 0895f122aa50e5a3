// Package web is Sigil's face for people in browsers: the hosted sign-in,
// sign-up, password and email pages, the browser-session cookie, and the
// browser ends of the OpenID Provider (/oauth2/authorize and
// /oauth2/logout). Templates and assets are embedded.
//
// Like httpapi it only parses a form, calls one authn method and renders:
// no rule of the domain lives here or in a template. It must not import
// httpapi (nor httpapi it); both import authn. Every response carries a
// strict Content-Security-Policy (no inline script, frame-ancestors
// 'none'), and every form post passes http.CrossOriginProtection.
package web
