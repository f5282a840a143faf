/* limits.h — every named maximum the server enforces, in one place.
 *
 * A reviewer should be able to read the whole attack surface's size limits here.
 * Values that an operator may tune are defaults for config.c; the rest are fixed.
 * The web UI checks some of them before sending (tools/webconst.py names which): the build
 * copies their values from here into web/js/constants.js, so change them here only.
 */
#ifndef OPENSEAT_LIMITS_H
#define OPENSEAT_LIMITS_H

/* HTTP */
#define LIMIT_HEADER_BYTES        (16 * 1024)     /* request line + header fields: beyond, 431 */
/* libmicrohttpd's buffer per connection: the head, its parsed fields and the answer's
 * headers. Twice the head limit, so a head a little over it is still read whole and
 * answered with our 431 problem; a head past the buffer gets libmicrohttpd's own 431. */
#define LIMIT_CONN_BUFFER_BYTES   (2 * LIMIT_HEADER_BYTES)
#define LIMIT_BODY_BYTES          (64 * 1024)     /* default JSON body */
#define LIMIT_SCIM_BODY_BYTES     (1024 * 1024)   /* a SCIM resource: a group sent whole with its 10,000 members */
#define LIMIT_UPLOAD_BYTES        (32 * 1024 * 1024) /* upload routes only (configurable) */
#define LIMIT_URL_BYTES           2048
#define LIMIT_QUERY_PARAMS        32
/* A query value with no tighter limit of its own (a filter's level or country, an activity
 * actor, a cursor) is bounded by the URL's. */
#define LIMIT_QUERY_VALUE_CHARS   LIMIT_URL_BYTES
#define LIMIT_SEARCH_CHARS        200             /* the subscribers list's filter box (q) */
#define LIMIT_FILE_NAME_CHARS     255             /* an upload's own file name, shown back */
#define LIMIT_CONN_TIMEOUT_S      30              /* idle connection timeout */
/* Connection caps, head deadline and body rate are run-time options (config.c). */
#define LIMIT_SWEEP_MS            200             /* how often deadlines are checked */
/* A subscriber's question to the customer's admins (characters). */
#define LIMIT_QUESTION_SUBJECT_CHARS 200
#define LIMIT_QUESTION_MESSAGE_CHARS 5000
/* Room given to an arena that ran out (a request's, a job's), for the problem that ends it. */
#define LIMIT_TOO_COSTLY_RESERVE  (64 * 1024)
#define LIMIT_FD_RESERVE          256             /* descriptors kept for files, database, mail */
/* Near the connection cap (this percentage of it), a connection that has waited longer
 * than LIMIT_PRESSURE_WAIT_MS for its request head is closed, idle or not, to make room. */
#define LIMIT_PRESSURE_PERCENT    90
#define LIMIT_PRESSURE_WAIT_MS    1000
#define LIMIT_SHUTDOWN_GRACE_S    10              /* wait for in-flight requests */

/* JSON */
#define LIMIT_JSON_DEPTH          16
#define LIMIT_FIELD_BYTES         512             /* any single text field unless stated */
#define LIMIT_NAME_BYTES          200
#define LIMIT_EMAIL_BYTES         254             /* RFC 5321 path limit */
#define LIMIT_PASSWORD_MIN        10
#define LIMIT_PASSWORD_MAX        256
#define LIMIT_TOKEN_CHARS         128
#define LIMIT_NEXT_BYTES          512             /* sign-up's page to continue to */
/* A field error's params object (core/json_write.h): a few numbers, a date, a list of an
 * agreement's level codes. */
#define LIMIT_PARAMS_BYTES        (64 * 1024)

/* Partner registration and the licensing center's hand-off (api/partners.c): the numbers as
 * people type them, separators and spaces included, before they are normalised and checked. */
#define LIMIT_AUTHORIZATION_CHARS 64              /* 14 characters once normalised */
#define LIMIT_LICENSE_NUMBER_CHARS 32             /* 8 digits once normalised */
#define LIMIT_HANDOFF_TOKEN_CHARS 2048            /* a signed hand-off link's token */

/* A subscription level's code as sent (a subscriber's level, the preferences' default). */
#define LIMIT_LEVEL_CODE_CHARS    64

/* Preferences: the share of a level's seats (percent) whose assignment alerts the super admins. */
#define LIMIT_ALERT_THRESHOLD_MIN 1
#define LIMIT_ALERT_THRESHOLD_MAX 100
#define LIMIT_ALERT_THRESHOLD_DEFAULT 90

/* Accounts */
#define LIMIT_VERIFY_TTL_S        (48 * 3600)
#define LIMIT_RESET_TTL_S         (1 * 3600)
/* Sign-in failures per window before refusing. An account is limited per client address
 * first, so guesses from elsewhere cannot lock its owner out, and then by a ceiling over all
 * addresses, which a distributed guesser reaches (and the owner with it) only after ten
 * addresses' worth of guesses. A client address is limited whatever accounts it tries. */
#define LIMIT_SIGNIN_WINDOW_S     (15 * 60)
#define LIMIT_SIGNIN_PER_ACCOUNT_ADDRESS 5        /* one account from one client address */
#define LIMIT_SIGNIN_PER_ACCOUNT  50              /* one account from all addresses together */
#define LIMIT_SIGNIN_PER_ADDRESS  20              /* one client address, any accounts */
#define LIMIT_MFA_CHALLENGE_TTL_S (5 * 60)        /* from the right password to the second factor */
#define LIMIT_MFA_RECOVERY_CODES  10              /* shown once, each works once */
#define LIMIT_MFA_CODE_CHARS      32              /* a code or recovery code as typed, spaces included */

/* E-mail to an address nobody proved to own (sign-up, verification resend, password reset):
 * every such request counts, whether or not it leads to a mail, per recipient and per
 * requesting client address; past either limit the mail is not queued (the answer is the
 * same). Defaults of --mail-per-recipient and --mail-per-address; plain numbers, for config.c. */
#define LIMIT_MAIL_WINDOW_S       3600
#define LIMIT_MAIL_PER_RECIPIENT  3
#define LIMIT_MAIL_PER_ADDRESS    30

/* Pages */
#define LIMIT_PAGE_SIZE_DEFAULT   50
#define LIMIT_PAGE_SIZE_MAX       500
/* The activity stream (NDJSON): events per answer by default and at most. */
#define LIMIT_STREAM_PAGE_DEFAULT 1000
#define LIMIT_STREAM_PAGE_MAX     10000
#define LIMIT_EXPORT_ROWS         2000000         /* rows of one subscribers export file */

/* Arena */
#define LIMIT_ARENA_BYTES         (64 * 1024 * 1024) /* one request may not use more (--request-memory's default) */
#define LIMIT_JOB_RESULT (16 * 1024 * 1024)    /* a background job's answer (a report of 1,000 problems) */
#define LIMIT_UPLOAD_ARENA_FACTOR 4               /* upload routes: + this × max-upload */

/* Partner relationships: a period of 1 day to 2 years; an unanswered request lapses after 30
 * days; a denial's reason. */
#define LIMIT_PARTNER_PERIOD_DAYS_MAX 730
#define LIMIT_PARTNER_PERIOD_DAYS_DEFAULT 365
#define LIMIT_PARTNER_REQUEST_DAYS    30
#define LIMIT_PARTNER_REASON_CHARS    500
/* The people a relationship may name at once: more than any partner organization has staff. */
#define LIMIT_PARTNER_NAMED_PEOPLE    500

/* How long a write waits for its turn (SQLite's one writer; PostgreSQL's advisory locks,
 * the store's or its agreement's) before it is refused as busy (503): longer than the longest write
 * transaction, a 100,000-row bulk add — measured 3.6 s on SQLite and 8–11 s on PostgreSQL
 * (bench/RESULTS.md) on the reference machine. */
#define LIMIT_WRITE_WAIT_MS 30000

/* Agreements one write transaction may name up front (store_tx_begin_agreements): each is
 * a lock taken and a data version bumped at its start. */
#define LIMIT_TX_AGREEMENTS 8

/* API tokens: a name of 1-100 characters; valid 90 days unless asked, at most a year; at
 * most 50 live at once per person (listed: the newest 200, revoked and expired ones too);
 * a use recorded at most once a minute; --token-rate requests a minute by default, counted
 * in a fixed table of buckets (LIMIT_TOKEN_RATE_WAYS per set; the least recently used of a
 * set is evicted for a new token). */
#define LIMIT_TOKEN_NAME_CHARS     100
#define LIMIT_TOKEN_DEFAULT_DAYS   90
#define LIMIT_TOKEN_MAX_DAYS       365
#define LIMIT_TOKENS_LIVE          50
#define LIMIT_TOKENS_LISTED        200
#define LIMIT_TOKEN_TOUCH_S        60
#define LIMIT_TOKEN_RATE_DEFAULT   600
#define LIMIT_TOKEN_RATE_SLOTS     4096
#define LIMIT_TOKEN_RATE_WAYS      8

/* Webhooks: an endpoint's URL and description; endpoints per agreement or organization;
 * what a try may take and keep; when a failing endpoint is turned off; how long finished
 * deliveries and delivered events are kept; the overlap of a rotated secret. */
#define LIMIT_WEBHOOK_URL_CHARS        2000
#define LIMIT_WEBHOOK_DESCRIPTION_CHARS 200
#define LIMIT_WEBHOOKS_PER_OWNER       20
#define LIMIT_WEBHOOK_TIMEOUT_S        10
#define LIMIT_WEBHOOK_RESPONSE_BYTES   1024
#define LIMIT_WEBHOOK_FAILING_DAYS     3
#define LIMIT_WEBHOOK_KEEP_DAYS        30
#define LIMIT_WEBHOOK_ROTATION_S       (24 * 3600)
#define LIMIT_WEBHOOK_ATTEMPTS_SHOWN   100

/* Sign-in through an OpenID Connect provider: how long a started sign-in may take at the
 * provider, the clock difference tolerated on exp and iat, what an answer from the provider
 * may weigh and take, how often an unknown key id may make the key set be fetched again, the
 * providers a file may list and the domains each may route. */
#define LIMIT_SSO_REQUEST_TTL_S        600
#define LIMIT_SSO_SKEW_S               60
#define LIMIT_SSO_RESPONSE_BYTES       (256 * 1024)
#define LIMIT_SSO_TIMEOUT_S            10
#define LIMIT_SSO_JWKS_REFRESH_S       60
#define LIMIT_SSO_PROVIDERS            32
#define LIMIT_SSO_DOMAINS              100
#define LIMIT_SSO_PARAM_CHARS          4096

#endif
