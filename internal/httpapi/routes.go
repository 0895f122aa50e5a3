package httpapi

import "net/http"

type route struct {
	pattern string
	handler http.Handler
}

// routes is the whole API surface of this server. Keep it in step with
// api/openapi.yaml (a test checks both ways).
func (s *Server) routes() []route {
	return []route{
		{"GET /{$}", s.authed(s.hello)},
		{"GET /healthz", s.h(s.healthz)},
		{"GET /readyz", s.h(s.readyz)},
		{"GET /openapi.yaml", s.h(s.openapi)},
		{"GET /.well-known/jwks.json", public(s.h(s.jwks))},
		{"GET /.well-known/openid-configuration", public(s.h(s.discovery))},
		{"GET /.well-known/oauth-authorization-server", public(s.h(s.discovery))},
		{"POST /oauth2/token", s.cors(http.HandlerFunc(s.oauthToken))},
		{"OPTIONS /oauth2/token", s.cors(s.h(s.preflight))},
		{"POST /oauth2/introspect", http.HandlerFunc(s.introspect)},
		{"POST /oauth2/revoke", s.cors(http.HandlerFunc(s.revoke))},
		{"OPTIONS /oauth2/revoke", s.cors(s.h(s.preflight))},
		{"GET /oauth2/userinfo", s.cors(s.authed(s.userinfo))},
		{"POST /oauth2/userinfo", s.cors(s.authed(s.userinfo))},
		{"OPTIONS /oauth2/userinfo", s.cors(s.h(s.preflight))},
		{"GET /v1/whoami", s.authed(s.whoami)},
		// Forward-auth answers for the original request's method.
		{"GET /v1/authorize", s.h(s.authorize)},
		{"POST /v1/authorize", s.h(s.authorize)},
		{"PUT /v1/authorize", s.h(s.authorize)},
		{"PATCH /v1/authorize", s.h(s.authorize)},
		{"DELETE /v1/authorize", s.h(s.authorize)},
		{"OPTIONS /v1/authorize", s.h(s.authorize)},

		{"GET /v1/auth/idexists/{user_id}", s.h(s.idExists)},
		{"POST /v1/auth/code", s.h(s.code)},
		{"POST /v1/auth/register", s.h(s.register)},
		{"POST /v1/auth/token", s.h(s.token)},
		{"POST /v1/auth/refresh", s.h(s.refresh)},
		{"POST /v1/auth/logout", s.h(s.logout)},
		{"POST /v1/auth/signup", s.h(s.signup)},
		{"POST /v1/auth/login", s.h(s.login)},
		{"POST /v1/auth/mfa/verify", s.h(s.mfaVerify)},
		{"POST /v1/auth/webauthn/begin", s.h(s.passkeyLoginBegin)},
		{"POST /v1/auth/webauthn/finish", s.h(s.passkeyLoginFinish)},
		{"POST /v1/auth/password/forgot", s.h(s.forgotPassword)},
		{"POST /v1/auth/password/reset", s.h(s.resetPassword)},
		{"POST /v1/auth/email/verify", s.h(s.verifyEmail)},

		{"POST /v1/api-keys", s.authed(s.createAPIKey)},
		{"GET /v1/api-keys", s.authed(s.listAPIKeys)},
		{"DELETE /v1/api-keys/{id}", s.authed(s.revokeAPIKey)},
		{"POST /v1/api-keys/{id}/rotate", s.authed(s.rotateAPIKey)},
		{"POST /v1/jwt-keys", s.authed(s.createJWTKey)},
		{"GET /v1/jwt-keys", s.authed(s.listJWTKeys)},
		{"DELETE /v1/jwt-keys/{id}", s.authed(s.deleteJWTKey)},
		{"GET /v1/audit", s.authed(s.audit)},
		{"GET /v1/revocations", s.authed(s.revocations)},

		{"GET /v1/users/me/keys", s.authed(s.listKeys)},
		{"POST /v1/users/me/keys", s.authed(s.addKey)},
		{"DELETE /v1/users/me/keys/{id}", s.authed(s.deleteKey)},
		{"GET /v1/users/me/factors", s.authed(s.listFactors)},
		{"POST /v1/users/me/factors/totp", s.authed(s.enrolTOTP)},
		{"POST /v1/users/me/factors/recovery", s.authed(s.newRecoveryCodes)},
		{"POST /v1/users/me/factors/webauthn/begin", s.authed(s.passkeyBegin)},
		{"POST /v1/users/me/factors/webauthn/finish", s.authed(s.passkeyFinish)},
		{"POST /v1/users/me/factors/{id}/verify", s.authed(s.verifyFactor)},
		{"DELETE /v1/users/me/factors/{id}", s.authed(s.deleteFactor)},

		{"GET /v1/sessions", s.authed(s.listSessions)},
		{"DELETE /v1/sessions/{id}", s.authed(s.endSession)},

		{"POST /v1/workspaces", s.authed(s.createWorkspace)},
		{"GET /v1/workspaces/{id}", s.authed(s.getWorkspace)},
		{"PATCH /v1/workspaces/{id}", s.authed(s.updateWorkspace)},
		{"POST /v1/workspaces/{id}/join-code", s.authed(s.rotateJoinCode)},
		{"GET /v1/workspaces/{id}/members", s.authed(s.listMembers)},
		{"PATCH /v1/workspaces/{id}/members/{user}", s.authed(s.updateMember)},
		{"DELETE /v1/workspaces/{id}/members/{user}", s.authed(s.removeMember)},
		{"DELETE /v1/workspaces/{id}/members/{user}/factors", s.authed(s.resetMemberFactors)},
		{"POST /v1/workspaces/{id}/invitations", s.authed(s.invite)},
		{"GET /v1/workspaces/{id}/invitations", s.authed(s.listInvitations)},
		{"DELETE /v1/workspaces/{id}/invitations/{iid}", s.authed(s.revokeInvitation)},
		{"POST /v1/workspaces/{id}/apps", s.authed(s.createApp)},
		{"GET /v1/workspaces/{id}/apps", s.authed(s.listApps)},
		{"GET /v1/workspaces/{id}/apps/{client_id}", s.authed(s.getApp)},
		{"PATCH /v1/workspaces/{id}/apps/{client_id}", s.authed(s.updateApp)},
		{"DELETE /v1/workspaces/{id}/apps/{client_id}", s.authed(s.deleteApp)},
		{"POST /v1/workspaces/{id}/connections", s.authed(s.createConnection)},
		{"GET /v1/workspaces/{id}/connections", s.authed(s.listConnections)},
		{"GET /v1/workspaces/{id}/connections/{cid}", s.authed(s.getConnection)},
		{"PATCH /v1/workspaces/{id}/connections/{cid}", s.authed(s.updateConnection)},
		{"DELETE /v1/workspaces/{id}/connections/{cid}", s.authed(s.deleteConnection)},
		{"POST /v1/workspaces/{id}/connections/{cid}/test", s.authed(s.testConnection)},
	}
}
