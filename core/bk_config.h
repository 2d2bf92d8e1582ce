/* SPDX-License-Identifier: MIT */
/* batchkey compile-time sizes. Override any of them with -D on the command line or in a board's
 * build fragment; every buffer in the library is sized from here. Overflowing one the operation
 * needs is an error; diagnostic text (messages, ids) is cut and marked instead. */
#ifndef BK_CONFIG_H
#define BK_CONFIG_H

/* The one I/O buffer: holds a whole request, then each response header line, then the response
 * body. 16 KiB fits a token request and the largest ARM answer batchkey reads. */
#ifndef BK_IO_BUFFER_SIZE
#define BK_IO_BUFFER_SIZE 16384
#endif

/* Bytes of the whole response header section (status line, headers, trailers). */
#ifndef BK_HTTP_HEADER_BYTES_MAX
#define BK_HTTP_HEADER_BYTES_MAX 16384
#endif

/* An access token. App-only ARM tokens are ~1.5-3.5 KB; leave room for group claims. */
#ifndef BK_TOKEN_MAX
#define BK_TOKEN_MAX 8192
#endif

/* jsmn tokens for one response body. A full BatchAccount answer needs about 100. */
#ifndef BK_JSON_TOKENS_MAX
#define BK_JSON_TOKENS_MAX 256
#endif

/* A client assertion: a certificate's JWT (about 700 bytes, plus its chain in base64 when sent)
 * or a workload identity's federated token. */
#ifndef BK_ASSERTION_MAX
#define BK_ASSERTION_MAX 8192
#endif

/* A refresh token kept for a person's sign-in (Entra's are 1-2 KB), and the device code of
 * the flow that yields it. */
#ifndef BK_REFRESH_TOKEN_MAX
#define BK_REFRESH_TOKEN_MAX 8192
#endif
#ifndef BK_DEVICE_CODE_MAX
#define BK_DEVICE_CODE_MAX 1024
#endif

/* A Batch shared key: 88 base64 characters today. */
#ifndef BK_KEY_MAX
#define BK_KEY_MAX 128
#endif

/* A host name (DNS limit) and a full URL built from one. */
#ifndef BK_HOST_MAX
#define BK_HOST_MAX 253
#endif

/* Text fields of service answers: error messages, error descriptions. */
#ifndef BK_MESSAGE_MAX
#define BK_MESSAGE_MAX 1024
#endif

/* Nested details (and additionalInfo entries) kept from one CloudError. */
#ifndef BK_ERROR_DETAILS_MAX
#define BK_ERROR_DETAILS_MAX 8
#endif

/* A WWW-Authenticate value (CAE claims challenges are base64 JSON). */
#ifndef BK_WWW_AUTHENTICATE_MAX
#define BK_WWW_AUTHENTICATE_MAX 2048
#endif

/* The serialised rotation state (both keys, the account's identity and endpoint): about 700
 * bytes with 88-character keys. */
#ifndef BK_STATE_RECORD_MAX
#define BK_STATE_RECORD_MAX 1536
#endif

/* The time a client call may take, retries and waits included, when the caller set no deadline
 * for the command (bk_client_set_deadline). */
#ifndef BK_CALL_BUDGET_MS
#define BK_CALL_BUDGET_MS 60000
#endif

/* Consecutive "no progress" returns from a stream before the read is abandoned. */
#ifndef BK_STREAM_IDLE_LIMIT
#define BK_STREAM_IDLE_LIMIT 10000
#endif

#define BK_VERSION         "0.1.0"
#define BK_USER_AGENT      "batchkey/" BK_VERSION
#define BK_ARM_API_VERSION "2024-07-01"

/* The Batch data plane's api-version for the SharedKey proof (GET /applications); a newer one
 * can also be given at run time (bk_rotation.batch_api_version). */
#ifndef BK_BATCH_API_VERSION
#define BK_BATCH_API_VERSION "2024-07-01.20.0"
#endif

#endif
