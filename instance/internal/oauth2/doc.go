// Package oauth2 holds the OAuth2 providers PocketBase v0.40 offers to auth collections
// (tools/auth), as data, and the client side of the authorization code flow: building
// the consent URL, exchanging the code (with PKCE), and fetching and normalising the
// provider's user info. It knows nothing about records; the core and HTTP layers decide
// what a provider's user becomes.
package oauth2
