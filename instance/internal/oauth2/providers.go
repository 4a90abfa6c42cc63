package oauth2

import (
	"encoding/json"
	"net/mail"
	"slices"
	"time"
)

// The providers PocketBase v0.40 registers (tools/auth/*.go), as data: name, display
// name, sort order, PKCE, scopes, endpoints, and how the user info maps onto a User.
// The generic "oidc" provider is registered three times (oidc, oidc2, oidc3) and comes
// without endpoints: the collection configures them (PocketBase does no discovery).

// Provider names that need special handling.
const (
	NameApple     = "apple"
	NameOIDC      = "oidc"
	NameMicrosoft = "microsoft"
	NameInstagram = "instagram2"
	NameVK        = "vk"
)

// userMap says where a provider's user info keeps the user fields: dotted paths into
// its JSON (a number index selects an array element). Email is only taken when
// EmailVerified is empty or names a truthy value.
type userMap struct {
	ID, Name, Username, Email, EmailVerified, AvatarURL string
}

// spec is one provider as PocketBase ships it.
type spec struct {
	name        string
	displayName string
	logo        string
	order       int
	pkce        bool
	scopes      []string
	authURL     string
	tokenURL    string
	userInfoURL string
	user        userMap
	// query, when set, is a GraphQL query POSTed to the user info URL.
	query string
	// headers adds provider-specific headers to the user info request.
	headers func(clientID string) map[string]string
	// emails says how to find the verified primary email in a second request (GitHub,
	// Gitea, Gitee, Bitbucket) when the user info has none.
	emails emailList
	// fixUser adjusts the mapped user (composed names, avatar URLs, account checks).
	fixUser func(u *User, raw map[string]any) error
}

// emailList describes a provider's list of the user's emails: where it is (url, or
// userInfoURL + "/emails" when empty), the list's path in it ("" for a top-level
// array), and which entry is the verified primary email.
type emailList struct {
	url, list string
	pick      func(entry map[string]any) bool
}

// verifiedPrimary picks the entry whose verified and primary flags are both true.
func verifiedPrimary(verified, primary string) func(map[string]any) bool {
	return func(e map[string]any) bool { return truthy(e[verified]) && truthy(e[primary]) }
}

var oidcUser = userMap{ID: "sub", Name: "name", Username: "preferred_username", Email: "email", EmailVerified: "email_verified", AvatarURL: "picture"}

func oidcSpec(name string) spec {
	return spec{name: name, displayName: "OIDC", logo: logos["oidc"], order: 99, pkce: true,
		scopes: []string{"openid", "email", "profile"}, user: oidcUser}
}

// specs are the registered providers by name.
var specs = func() map[string]spec {
	list := []spec{
		{name: NameApple, displayName: "Apple", order: 1, pkce: true, scopes: []string{"name", "email"},
			authURL: "https://appleid.apple.com/auth/authorize", tokenURL: "https://appleid.apple.com/auth/token",
			user: userMap{ID: "sub", Name: "name", Email: "email", EmailVerified: "email_verified"}},
		{name: "google", displayName: "Google", order: 2, pkce: true,
			scopes:  []string{"https://www.googleapis.com/auth/userinfo.profile", "https://www.googleapis.com/auth/userinfo.email"},
			authURL: "https://accounts.google.com/o/oauth2/v2/auth", tokenURL: "https://oauth2.googleapis.com/token",
			userInfoURL: "https://www.googleapis.com/oauth2/v3/userinfo",
			user:        userMap{ID: "sub", Name: "name", Email: "email", EmailVerified: "email_verified", AvatarURL: "picture"}},
		{name: NameMicrosoft, displayName: "Microsoft", order: 3, pkce: true, scopes: []string{"User.Read"},
			authURL:     "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
			tokenURL:    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
			userInfoURL: "https://graph.microsoft.com/v1.0/me",
			user:        userMap{ID: "id", Name: "displayName", Email: "mail"}},
		{name: "yandex", displayName: "Yandex", order: 4, pkce: true, scopes: []string{"login:email", "login:avatar", "login:info"},
			authURL: "https://oauth.yandex.com/authorize", tokenURL: "https://oauth.yandex.com/token",
			userInfoURL: "https://login.yandex.ru/info",
			user:        userMap{ID: "id", Name: "real_name", Username: "login", Email: "default_email"},
			fixUser: func(u *User, raw map[string]any) error {
				if !truthy(lookup(raw, "is_avatar_empty")) {
					u.AvatarURL = "https://avatars.yandex.net/get-yapic/" + lookupString(raw, "default_avatar_id") + "/islands-200"
				}
				return nil
			}},
		{name: "facebook", displayName: "Facebook", order: 5, pkce: true, scopes: []string{"email"},
			authURL: "https://www.facebook.com/v3.2/dialog/oauth", tokenURL: "https://graph.facebook.com/v3.2/oauth/access_token",
			userInfoURL: "https://graph.facebook.com/me?fields=name,email,picture.type(large)",
			user:        userMap{ID: "id", Name: "name", Email: "email", AvatarURL: "picture.data.url"}},
		{name: NameInstagram, displayName: "Instagram", logo: logos["instagram"], order: 6, pkce: true, scopes: []string{"instagram_business_basic"},
			authURL: "https://www.instagram.com/oauth/authorize", tokenURL: "https://api.instagram.com/oauth/access_token",
			userInfoURL: "https://graph.instagram.com/me?fields=id,username,account_type,user_id,name,profile_picture_url,followers_count,follows_count,media_count",
			user:        userMap{ID: "user_id", Name: "name", Username: "username", AvatarURL: "profile_picture_url"}},
		{name: "github", displayName: "GitHub", order: 7, pkce: true, scopes: []string{"read:user", "user:email"},
			authURL: "https://github.com/login/oauth/authorize", tokenURL: "https://github.com/login/oauth/access_token",
			userInfoURL: "https://api.github.com/user",
			user:        userMap{ID: "id", Name: "name", Username: "login", AvatarURL: "avatar_url"},
			emails:      emailList{pick: verifiedPrimary("verified", "primary")}},
		{name: "gitlab", displayName: "GitLab", order: 8, pkce: true, scopes: []string{"read_user"},
			authURL: "https://gitlab.com/oauth/authorize", tokenURL: "https://gitlab.com/oauth/token",
			userInfoURL: "https://gitlab.com/api/v4/user",
			user:        userMap{ID: "id", Name: "name", Username: "username", Email: "email", AvatarURL: "avatar_url"},
			fixUser: func(u *User, raw map[string]any) error {
				// the email counts as verified once confirmed_at is a time
				if t, err := time.Parse(time.RFC3339, lookupString(raw, "confirmed_at")); err != nil || t.IsZero() {
					u.Email = ""
				}
				return nil
			}},
		{name: "bitbucket", displayName: "Bitbucket", order: 9, scopes: []string{"account"},
			authURL: "https://bitbucket.org/site/oauth2/authorize", tokenURL: "https://bitbucket.org/site/oauth2/access_token",
			userInfoURL: "https://api.bitbucket.org/2.0/user",
			user:        userMap{ID: "uuid", Name: "display_name", Username: "username", AvatarURL: "links.avatar.href"},
			emails:      emailList{list: "values", pick: verifiedPrimary("is_confirmed", "is_primary")},
			fixUser:     requireEqual("account_status", "active")},
		{name: "gitee", displayName: "Gitee", order: 10, pkce: true, scopes: []string{"user_info", "emails"},
			authURL: "https://gitee.com/oauth/authorize", tokenURL: "https://gitee.com/oauth/token",
			userInfoURL: "https://gitee.com/api/v5/user",
			user:        userMap{ID: "id", Name: "name", Username: "login", Email: "email", AvatarURL: "avatar_url"},
			emails: emailList{url: "https://gitee.com/api/v5/emails", pick: func(e map[string]any) bool {
				scopes, _ := e["scope"].([]any)
				return e["state"] == "confirmed" && slices.Contains(scopes, any("primary")) && isEmail(lookupString(e, "email"))
			}},
			fixUser: func(u *User, _ map[string]any) error {
				// an invalid email is dropped; the email list is asked instead
				if !isEmail(u.Email) {
					u.Email = ""
				}
				return nil
			}},
		{name: "gitea", displayName: "Gitea/Forgejo", order: 11, pkce: true, scopes: []string{"read:user", "user:email"},
			authURL: "https://gitea.com/login/oauth/authorize", tokenURL: "https://gitea.com/login/oauth/access_token",
			userInfoURL: "https://gitea.com/api/v1/user",
			user:        userMap{ID: "id", Name: "full_name", Username: "login", AvatarURL: "avatar_url"},
			emails:      emailList{pick: verifiedPrimary("verified", "primary")},
			fixUser:     requireEqual("active", true)},
		{name: "discord", displayName: "Discord", order: 12, pkce: true, scopes: []string{"identify", "email"},
			authURL: "https://discord.com/api/oauth2/authorize", tokenURL: "https://discord.com/api/oauth2/token",
			userInfoURL: "https://discord.com/api/users/@me",
			user:        userMap{ID: "id", Name: "global_name", Username: "username", Email: "email", EmailVerified: "verified"},
			fixUser: func(u *User, raw map[string]any) error {
				if avatar := lookupString(raw, "avatar"); avatar != "" {
					u.AvatarURL = "https://cdn.discordapp.com/avatars/" + u.ID + "/" + avatar + ".png"
				}
				if u.Name == "" {
					u.Name = u.Username
					if d := lookupString(raw, "discriminator"); d != "" && d != "0" {
						u.Name += "#" + d
					}
				}
				return nil
			}},
		{name: "twitter", displayName: "X/Twitter", order: 13, pkce: true, scopes: []string{"users.read", "users.email", "tweet.read"},
			authURL: "https://x.com/i/oauth2/authorize", tokenURL: "https://api.x.com/2/oauth2/token",
			userInfoURL: "https://api.x.com/2/users/me?user.fields=id,name,username,profile_image_url,confirmed_email",
			user:        userMap{ID: "data.id", Name: "data.name", Username: "data.username", Email: "data.confirmed_email", AvatarURL: "data.profile_image_url"}},
		{name: "kakao", displayName: "Kakao", order: 14, pkce: true, scopes: []string{"account_email", "profile_nickname", "profile_image"},
			authURL: "https://kauth.kakao.com/oauth/authorize", tokenURL: "https://kauth.kakao.com/oauth/token",
			userInfoURL: "https://kapi.kakao.com/v2/user/me",
			user: userMap{ID: "id", Username: "properties.nickname", AvatarURL: "properties.profile_image",
				Email: "kakao_account.email", EmailVerified: "kakao_account.is_email_verified"},
			fixUser: func(u *User, raw map[string]any) error {
				if !truthy(lookup(raw, "kakao_account.is_email_valid")) {
					u.Email = ""
				}
				return nil
			}},
		{name: NameVK, displayName: "ВКонтакте", order: 15, scopes: []string{"email"},
			authURL: "https://oauth.vk.com/authorize", tokenURL: "https://oauth.vk.com/access_token",
			userInfoURL: "https://api.vk.com/method/users.get?fields=photo_max,screen_name&v=5.131",
			user:        userMap{ID: "response.0.id", Username: "response.0.screen_name", AvatarURL: "response.0.photo_max"},
			fixUser:     joinName("response.0.first_name", "response.0.last_name")},
		{name: "linear", displayName: "Linear", order: 16, scopes: []string{"read"},
			authURL: "https://linear.app/oauth/authorize", tokenURL: "https://api.linear.app/oauth/token",
			userInfoURL: "https://api.linear.app/graphql",
			query:       "query Me { viewer { id displayName name email avatarUrl active } }",
			user: userMap{ID: "data.viewer.id", Name: "data.viewer.name", Username: "data.viewer.displayName",
				Email: "data.viewer.email", AvatarURL: "data.viewer.avatarUrl"},
			fixUser: requireEqual("data.viewer.active", true)},
		{name: "notion", displayName: "Notion", order: 17, pkce: true,
			authURL: "https://api.notion.com/v1/oauth/authorize", tokenURL: "https://api.notion.com/v1/oauth/token",
			userInfoURL: "https://api.notion.com/v1/users/me",
			headers:     func(string) map[string]string { return map[string]string{"Notion-Version": "2022-06-28"} },
			user: userMap{ID: "bot.owner.user.id", Name: "bot.owner.user.name", Email: "bot.owner.user.person.email",
				AvatarURL: "bot.owner.user.avatar_url"}},
		{name: "monday", displayName: "monday.com", order: 18, pkce: true, scopes: []string{"me:read"},
			authURL: "https://auth.monday.com/oauth2/authorize", tokenURL: "https://auth.monday.com/oauth2/token",
			userInfoURL: "https://api.monday.com/v2",
			query:       "query { me { id enabled name email is_verified photo_small }}",
			user: userMap{ID: "data.me.id", Name: "data.me.name", Email: "data.me.email", EmailVerified: "data.me.is_verified",
				AvatarURL: "data.me.photo_small"},
			fixUser: requireEqual("data.me.enabled", true)},
		{name: "lark", displayName: "Lark", order: 19, pkce: true,
			authURL:     "https://accounts.feishu.cn/open-apis/authen/v1/authorize",
			tokenURL:    "https://open.feishu.cn/open-apis/authen/v2/oauth/token",
			userInfoURL: "https://open.feishu.cn/open-apis/authen/v1/user_info",
			user:        userMap{ID: "data.union_id", Name: "data.name", AvatarURL: "data.avatar_url"}},
		{name: "box", displayName: "Box", order: 20, pkce: true, scopes: []string{"root_readonly"},
			authURL: "https://account.box.com/api/oauth2/authorize", tokenURL: "https://api.box.com/oauth2/token",
			userInfoURL: "https://api.box.com/2.0/users/me",
			user:        userMap{ID: "id", Name: "name", Email: "login", AvatarURL: "avatar_url"},
			fixUser:     requireEqual("status", "active")},
		{name: "spotify", displayName: "Spotify", order: 21, pkce: true, scopes: []string{"user-read-private"},
			authURL: "https://accounts.spotify.com/authorize", tokenURL: "https://accounts.spotify.com/api/token",
			userInfoURL: "https://api.spotify.com/v1/me",
			user:        userMap{ID: "id", Name: "display_name", AvatarURL: "images.0.url"}},
		{name: "trakt", displayName: "Trakt", order: 22, pkce: true,
			authURL: "https://trakt.tv/oauth/authorize", tokenURL: "https://api.trakt.tv/oauth/token",
			userInfoURL: "https://api.trakt.tv/users/settings",
			headers: func(clientID string) map[string]string {
				return map[string]string{"trakt-api-key": clientID, "trakt-api-version": "2"}
			},
			user: userMap{ID: "user.ids.uuid", Name: "user.name", Username: "user.username",
				AvatarURL: "user.images.avatar.full"}},
		{name: "twitch", displayName: "Twitch", order: 23, pkce: true, scopes: []string{"user:read:email"},
			authURL: "https://id.twitch.tv/oauth2/authorize", tokenURL: "https://id.twitch.tv/oauth2/token",
			userInfoURL: "https://api.twitch.tv/helix/users",
			headers:     func(clientID string) map[string]string { return map[string]string{"Client-Id": clientID} },
			user: userMap{ID: "data.0.id", Name: "data.0.display_name", Username: "data.0.login", Email: "data.0.email",
				AvatarURL: "data.0.profile_image_url"}},
		{name: "patreon", displayName: "Patreon", order: 24, pkce: true, scopes: []string{"identity", "identity[email]"},
			authURL: "https://www.patreon.com/oauth2/authorize", tokenURL: "https://www.patreon.com/api/oauth2/token",
			userInfoURL: "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email,vanity,image_url,is_email_verified",
			user: userMap{ID: "data.id", Name: "data.attributes.full_name", Username: "data.attributes.vanity",
				Email: "data.attributes.email", EmailVerified: "data.attributes.is_email_verified", AvatarURL: "data.attributes.image_url"}},
		{name: "strava", displayName: "Strava", order: 25, pkce: true, scopes: []string{"profile:read_all"},
			authURL: "https://www.strava.com/oauth/authorize", tokenURL: "https://www.strava.com/api/v3/oauth/token",
			userInfoURL: "https://www.strava.com/api/v3/athlete",
			user:        userMap{ID: "id", Username: "username", AvatarURL: "profile"},
			fixUser: func(u *User, raw map[string]any) error {
				// Strava's name keeps the separating space even when a part is empty
				u.Name = lookupString(raw, "firstname") + " " + lookupString(raw, "lastname")
				if u.ID == "0" {
					u.ID = ""
				}
				return nil
			}},
		{name: "wakatime", displayName: "WakaTime", order: 26, pkce: true, scopes: []string{"email"},
			authURL: "https://wakatime.com/oauth/authorize", tokenURL: "https://wakatime.com/oauth/token",
			userInfoURL: "https://wakatime.com/api/v1/users/current",
			user: userMap{ID: "data.id", Name: "data.display_name", Username: "data.username", Email: "data.email",
				EmailVerified: "data.is_email_confirmed"},
			fixUser: func(u *User, raw map[string]any) error {
				if truthy(lookup(raw, "data.photo_public")) {
					u.AvatarURL = lookupString(raw, "data.photo")
				}
				return nil
			}},
		{name: "livechat", displayName: "LiveChat", order: 27, pkce: true,
			authURL: "https://accounts.livechat.com/", tokenURL: "https://accounts.livechat.com/token",
			userInfoURL: "https://accounts.livechat.com/v2/accounts/me",
			user:        userMap{ID: "account_id", Name: "name", Email: "email", EmailVerified: "email_verified", AvatarURL: "avatar_url"}},
		{name: "mailcow", displayName: "mailcow", order: 28, pkce: true, scopes: []string{"profile"},
			user: userMap{ID: "id", Name: "full_name", Username: "username", Email: "email"},
			fixUser: func(u *User, raw map[string]any) error {
				if err := requireEqual("active", json.Number("1"))(u, raw); err != nil {
					return err
				}
				if before, _, ok := cutAt(u.Username); ok {
					u.Username = before
				}
				return nil
			}},
		{name: "planningcenter", displayName: "Planning Center", order: 29, pkce: true, scopes: []string{"people"},
			authURL: "https://api.planningcenteronline.com/oauth/authorize", tokenURL: "https://api.planningcenteronline.com/oauth/token",
			userInfoURL: "https://api.planningcenteronline.com/people/v2/me",
			user:        userMap{ID: "data.id", Name: "data.attributes.name", AvatarURL: "data.attributes.avatar"},
			fixUser:     requireEqual("data.attributes.status", "active")},
		oidcSpec(NameOIDC),
		oidcSpec(NameOIDC + "2"),
		oidcSpec(NameOIDC + "3"),
	}

	out := make(map[string]spec, len(list))
	for _, s := range list {
		if s.logo == "" {
			s.logo = logos[s.name]
		}
		out[s.name] = s
	}

	return out
}()

// isEmail approximates the email format check PocketBase applies to Gitee's emails.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}
