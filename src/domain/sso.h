/* sso.h — signing in with the organization's OpenID Connect provider.
 *
 * The operator lists providers in a JSON file (--sso-config; docs/sso.md): each has a name,
 * an issuer, a client id and secret, the e-mail domains it answers for, and whether it is
 * required for them (password sign-in then refused for those addresses). The registry is
 * loaded once at start and read-only afterwards, except each provider's discovery document
 * and key set, fetched on first use and kept under the provider's lock.
 *
 * The flow is the authorization code flow with PKCE (S256), state and nonce. sso_start
 * records the request (state hash, nonce, verifier; single use, LIMIT_SSO_REQUEST_TTL_S)
 * and returns the provider's authorization URL; sso_finish consumes it, redeems the code at
 * the token endpoint, checks the ID token (sso_check_id_token) and signs the person in:
 * the account linked to (issuer, sub), or else the account with the token's verified
 * address (linked now, audited sso.linked), or else a new verified account
 * (account.created, source sso). Audited `signin` with method sso. A refusal that names an
 * address the provider signed for (one it has not verified) is audited signin.failed on that
 * address, as a refused password is; a token that fails its checks names nobody and goes to
 * the operator's log only (sso_refused).
 */
#ifndef OPENSEAT_SSO_H
#define OPENSEAT_SSO_H
#include <jansson.h>
#include "domain/account.h"
#include "domain/ctx.h"

typedef struct sso_registry sso_registry;
typedef struct sso_provider sso_provider;

/* NULL with a message in err naming the file and what is wrong with it. */
sso_registry *sso_load(const char *path, bool allow_private, char *err, size_t errlen);
void sso_free(sso_registry *r);

/* The provider routed the address's domain (email normalised), or NULL. */
sso_provider *sso_for_email(const sso_registry *r, const char *email);
sso_provider *sso_by_name(const sso_registry *r, const char *name);
const char *sso_provider_name(const sso_provider *p);
bool sso_provider_required(const sso_provider *p);
/* Whether password sign-in is refused for this address. */
bool sso_required_for(const sso_registry *r, const char *email);
/* Records a password sign-in refused because p is required for the address (email
 * normalised): audited signin.failed on the address, reason sso_required, as a refused
 * password is. Best effort: the refusal stands whatever happens to the record. */
void sso_password_refused(op_ctx *x, const sso_provider *p, const char *email);

/* *url: where to send the browser. OS_ERR_UNAVAILABLE-like failures as OS_ERR_IO (the
 * provider's discovery document could not be read). language ("en", "fr"): the page's, kept
 * with the request; an account the callback creates is made in it. */
os_err sso_start(op_ctx *x, sso_provider *p, const char *language, const char **url);

/* On failure *reason is a stable code the sign-in page explains (sso_expired, sso_failed,
 * sso_email_unverified, sso_unavailable). */
os_err sso_finish(op_ctx *x, const char *state, const char *code, const char *user_agent, signin_result *out,
                  const char **reason);

/* Checks an ID token against the provider's key set: the algorithm on the allow-list
 * (RS256, ES256), the key named by kid of the matching type, the signature, iss, aud (and
 * azp when there are several audiences or azp is present), exp and iat within
 * LIMIT_SSO_SKEW_S, the nonce. On success *claims is the payload (the caller decrefs).
 * OS_ERR_NOT_FOUND: no key with that kid (the caller may refresh the key set once);
 * OS_ERR_UNAUTHENTICATED: refused, *why says which check. */
os_err sso_check_id_token(const char *jwt, const json_t *jwks, const char *issuer, const char *client_id,
                          const char *nonce, int64_t now, json_t **claims, const char **why);

#endif
