/* SPDX-License-Identifier: MIT */
/* batchkey results: one enum for every library call.
 *
 *     bk_result r = bk_arm_write_request(&req, buf, sizeof buf, &len);
 *     if (r != BK_OK) fprintf(stderr, "batchkey: %s\n", bk_strerror(r));
 *
 * BK_OK is 0 and every failure is a distinct negative code. The HTTP status and the service's own
 * error code are kept apart from this (see bk_http_response and the models in bk_json.h). */
#ifndef BK_RESULT_H
#define BK_RESULT_H

#if defined(__GNUC__) || defined(__clang__)
#define BK_MUST_CHECK __attribute__((warn_unused_result))
#else
#define BK_MUST_CHECK
#endif

typedef enum bk_result {
    BK_OK = 0,

    /* Caller mistakes and invalid input (nothing was sent). */
    BK_ERR_ARGUMENT = -1,             /* NULL pointer or out-of-range argument */
    BK_ERR_INVALID_SUBSCRIPTION = -2, /* subscriptionId is not a GUID */
    BK_ERR_INVALID_RESOURCE_GROUP = -3,
    BK_ERR_INVALID_ACCOUNT = -4,
    BK_ERR_INVALID_TENANT = -5,
    BK_ERR_INVALID_CLIENT_ID = -6,
    BK_ERR_INVALID_SECRET = -7,       /* empty client secret or assertion */
    BK_ERR_INVALID_HEADER_VALUE = -8, /* CR, LF, NUL or another control byte in a header value */
    BK_ERR_INVALID_URL = -9,          /* not https://host[:port][/] */
    BK_ERR_INVALID_KEY_NAME = -10,
    BK_ERR_REQUEST_OVERFLOW = -11,           /* the request does not fit the I/O buffer */
    BK_ERR_INVALID_PROXY = -12,              /* not http://[user[:password]@]host[:port] */
    BK_ERR_PROXY_CREDENTIALS_TOO_LONG = -13, /* the proxy's user:password exceeds its buffer */

    /* The stream seam. */
    BK_ERR_STREAM_SEND = -20,
    BK_ERR_STREAM_RECV = -21,
    BK_ERR_STREAM_CLOSED = -22,  /* the peer ended the connection in order */
    BK_ERR_STREAM_STALLED = -23, /* BK_STREAM_IDLE_LIMIT calls in a row moved no byte */
    BK_ERR_TIMEOUT = -24,        /* a wait ran out, or the call's deadline passed */
    /* The peer closed without the carrier's own end signal (TLS: a TCP FIN with no close_notify),
     * so what came before may be cut short. */
    BK_ERR_STREAM_UNCLEAN_CLOSE = -25,

    /* The HTTP response. */
    BK_ERR_HTTP_STATUS_LINE = -30,
    BK_ERR_HTTP_HEADER_SYNTAX = -31,
    BK_ERR_HTTP_BARE_LF = -32,
    BK_ERR_HTTP_BARE_CR = -33,
    BK_ERR_HTTP_OBS_FOLD = -34,
    BK_ERR_HTTP_NUL = -35,
    BK_ERR_HTTP_EMPTY_HEADER_NAME = -36,
    BK_ERR_HTTP_HEADERS_TOO_LARGE = -37,
    BK_ERR_HTTP_BODY_TOO_LARGE = -39,
    BK_ERR_HTTP_LENGTH_AND_CHUNKED = -40, /* Content-Length together with Transfer-Encoding */
    BK_ERR_HTTP_LENGTH_CONFLICT = -41,    /* duplicate Content-Length values differ */
    BK_ERR_HTTP_LENGTH_INVALID = -42,
    BK_ERR_HTTP_TRANSFER_CODING = -43, /* a transfer coding other than chunked */
    BK_ERR_HTTP_CONTENT_CODING = -44,  /* a content coding other than identity */
    BK_ERR_HTTP_CHUNK_SIZE_INVALID = -45,
    BK_ERR_HTTP_CHUNK_SIZE_OVERFLOW = -46,
    BK_ERR_HTTP_CHUNK_SYNTAX = -47,
    BK_ERR_HTTP_TRUNCATED = -48, /* the connection closed before the response ended */

    /* JSON bodies. */
    BK_ERR_JSON_SYNTAX = -60,
    BK_ERR_JSON_TOO_MANY_TOKENS = -61,
    BK_ERR_JSON_MISSING_FIELD = -62,
    BK_ERR_JSON_TYPE = -63,
    BK_ERR_JSON_ESCAPE = -64,
    BK_ERR_JSON_FIELD_OVERFLOW = -65, /* a string is longer than its field */
    BK_ERR_JSON_NUMBER = -67,
    BK_ERR_JSON_DUPLICATE_KEY = -68, /* a field the operation needs is given twice */

    /* Platform and TLS. */
    BK_ERR_UNSUPPORTED = -80, /* the platform does not provide this */
    BK_ERR_ENTROPY = -81,
    BK_ERR_DNS = -82,
    BK_ERR_CONNECT = -83,
    BK_ERR_TLS_SETUP = -84,
    BK_ERR_TLS_CA = -85, /* the CA bundle could not be loaded */
    BK_ERR_TLS_HANDSHAKE = -86,
    BK_ERR_TLS_VERIFY = -87, /* chain or host name verification failed */
    BK_ERR_TLS_IO = -88,
    BK_ERR_CRYPTO = -89,
    BK_ERR_BASE64 = -90,
    BK_ERR_CLIENT_CERT = -91,          /* the client certificate or its key could not be used */
    BK_ERR_CLIENT_CERT_PASSWORD = -92, /* its key is encrypted: the password is missing or wrong */
    BK_ERR_CLIENT_CERT_CIPHER = -93,   /* its key is encrypted with a cipher the port cannot undo */
    BK_ERR_PROXY_REFUSED = -94,        /* the HTTP proxy answered CONNECT with a non-2xx status */
    BK_ERR_PROXY_ANSWER = -95,         /* the proxy's answer to CONNECT was not HTTP, or too long */

    /* What the services answered (details in the bk_client that made the call). */
    BK_ERR_AUTH_REFUSED = -100,      /* Entra ID refused the credential */
    BK_ERR_ARM_UNAUTHORIZED = -101,  /* ARM did not accept the token (401) */
    BK_ERR_ARM_REFUSED = -102,       /* ARM answered with an error */
    BK_ERR_UNEXPECTED_STATUS = -103, /* a status the operation does not define, no error body */
    BK_ERR_OUTCOME_UNKNOWN = -104,   /* regenerateKeys was sent and no definite answer came */
    BK_ERR_SERVICE_BUSY = -105,      /* 408, 429 or 5xx until the retries or the deadline ran out */
    BK_ERR_SHARED_KEY_DISABLED = -106, /* the account does not allow SharedKey authentication */
    BK_ERR_KEY_REJECTED = -107,        /* the Batch data plane refused the key (403) */
    BK_ERR_AUTH_CHALLENGE = -108,      /* a credential's request is to go again (internal) */
    BK_ERR_ARC_CHALLENGE = -109,       /* Azure Arc's challenge names a file batchkey refuses */
    BK_ERR_AUTH_PENDING = -110,        /* a sign-in is not approved yet: poll again (internal) */

    /* The store seam and the rotation record. */
    BK_ERR_STORE_NOT_FOUND = -120,    /* no record of that name was saved */
    BK_ERR_STORE_IO = -121,           /* the record could not be read or written (permissions) */
    BK_ERR_STORE_FULL = -122,         /* no space left to write the record */
    BK_ERR_STORE_TOO_LARGE = -123,    /* the record does not fit the buffer or the slot */
    BK_ERR_STATE_CORRUPT = -124,      /* a record that fails its checksum or does not parse */
    BK_ERR_STATE_VERSION = -125,      /* a record of a format version this build does not read */
    BK_ERR_STATE_FOREIGN = -126,      /* a record of another account or subscription */
    BK_ERR_ROTATION_CONFLICT = -127,  /* the service's keys changed in a way no step explains */
    BK_ERR_ROTATION_INCOMPLETE = -128 /* a step did not happen; the next run continues */
} bk_result;

/* A short, constant, English description; never NULL. */
const char *bk_strerror(bk_result result);

#endif
