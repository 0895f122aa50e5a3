package web

import "strings"

// device names the browser or client and the system of a User-Agent for
// a person ("Firefox on Linux", "curl"), or "" when it says nothing
// recognisable. It is a label, never a decision: a User-Agent is whatever
// the client chose to send.
func device(ua string) string {
	client := firstMatch(ua, clients)
	system := firstMatch(ua, systems)
	switch {
	case client != "" && system != "":
		return client + " on " + system
	case client != "":
		return client
	case system != "":
		return system
	}
	return ""
}

type uaMatch struct{ token, name string }

// clients are checked in order: Edge and Opera say "Chrome" too, and
// Chrome says "Safari".
var clients = []uaMatch{
	{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"},
	{"Chromium/", "Chromium"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"sigil-go-client/", "Sigil Go client or CLI"},
	{"Go-http-client/", "Go program"}, {"node", "Node.js"}, {"python-requests/", "Python requests"},
	{"python-httpx/", "Python httpx"}, {"okhttp/", "OkHttp"},
}

// systems are checked in order: iPhones say "like Mac OS X", Android says
// "Linux".
var systems = []uaMatch{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"}, {"Windows", "Windows"},
	{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
}

func firstMatch(ua string, list []uaMatch) string {
	for _, m := range list {
		if strings.Contains(ua, m.token) {
			return m.name
		}
	}
	return ""
}
