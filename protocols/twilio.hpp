#pragma once

// Twilio's wire formats (PROTOCOLS.md §1): the X-Twilio-Signature check exactly as twilio-node's
// validateRequest does it, x-www-form-urlencoded bodies, TwiML replies and the REST send form.
// Pure: no I/O, no actors.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace djdash::twilio {

/// Decoded form fields in arrival order; a repeated key appears once per value.
using form_params = std::vector<std::pair<std::string, std::string>>;

/// Parses an `application/x-www-form-urlencoded` body (or a query string) as browsers and
/// URLSearchParams do: '&'-separated, '+' is a space, %XX escapes decoded, a malformed escape
/// kept literally, empty segments skipped, a segment without '=' has an empty value.
form_params parse_form(std::string_view body);

/// Returns the first value of `key`, if any.
std::optional<std::string> form_value(const form_params& params, std::string_view key);

/// Returns what Twilio signs: `url` followed by key+value for every key in byte order; the
/// values of a repeated key are de-duplicated and sorted, each emitted as key+value.
std::string signing_string(std::string_view url, const form_params& params);

/// Returns base64(HMAC-SHA1(auth_token, signing_string(url, params))).
std::string signature(std::string_view auth_token, std::string_view url, const form_params& params);

/// Returns the URLs a signature may have been made over: `url` as given, without its port, and
/// with the scheme's default port when it has none (twilio-node tries the same forms).
std::vector<std::string> url_variants(std::string_view url);

/// Returns whether `header` (X-Twilio-Signature) signs `params` posted to `url` under
/// `auth_token`, trying each url_variants form; compared in constant time. An empty header or
/// token never validates.
bool validate_request(std::string_view auth_token, std::string_view header, std::string_view url,
                      const form_params& params);

/// For JSON-body webhooks: the URL carries `bodySHA256=<hex SHA-256 of the raw body>`; checks
/// that hash against `raw_body` and the signature over the URL alone.
bool validate_request_with_body(std::string_view auth_token, std::string_view header,
                                std::string_view url, std::string_view raw_body);

/// Escapes `& < >` for a TwiML text node (as twilio-node does: quotes stay as they are).
std::string xml_escape_text(std::string_view text);

/// Escapes `& < > "` for a double-quoted attribute value.
std::string xml_escape_attribute(std::string_view text);

/// The TwiML answer: `<Response><Message>text</Message></Response>`, or the empty
/// `<Response/>` when there is no reply.
std::string twiml_reply(const std::optional<std::string>& text);

/// One `<Message>` with attributes (to, from, action, method, ...), a `<Body>` noun and
/// `<Media>` nouns.
struct twiml_message {
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string body;
  std::vector<std::string> media;
};

/// Returns `<Response><Message ...><Body>..</Body><Media>..</Media></Message></Response>`.
std::string twiml_response(const twiml_message& message);

/// The form of POST /2010-04-01/Accounts/{sid}/Messages.json. Set `from` or
/// `messaging_service_sid`; empty fields are left out.
struct send_request {
  std::string to;
  std::string from;
  std::string messaging_service_sid;
  std::string body;
  std::string status_callback;
  std::vector<std::string> media_urls;
};

/// Percent-encodes like encodeURIComponent (so '+' becomes %2B, a space %20).
std::string form_encode_component(std::string_view text);

/// Returns the form body in the order twilio-node sends it (To, StatusCallback, From,
/// MessagingServiceSid, Body, MediaUrl...).
std::string send_form(const send_request& req);

/// Returns `/2010-04-01/Accounts/<account_sid>/Messages.json` (the sid percent-encoded).
std::string messages_path(std::string_view account_sid);

/// Returns `Basic base64(user:password)`.
std::string basic_authorization(std::string_view user, std::string_view password);

} // namespace djdash::twilio
