/* SPDX-License-Identifier: MIT */
#include "bk_result.h"

const char *bk_strerror(bk_result result) {
    switch (result) {
    case BK_OK:
        return "success";
    case BK_ERR_ARGUMENT:
        return "invalid argument";
    case BK_ERR_INVALID_SUBSCRIPTION:
        return "subscription ID is not a GUID";
    case BK_ERR_INVALID_RESOURCE_GROUP:
        return "invalid resource group name";
    case BK_ERR_INVALID_ACCOUNT:
        return "invalid Batch account name";
    case BK_ERR_INVALID_TENANT:
        return "invalid tenant ID";
    case BK_ERR_INVALID_CLIENT_ID:
        return "client ID is not a GUID";
    case BK_ERR_INVALID_SECRET:
        return "missing client secret or assertion";
    case BK_ERR_INVALID_HEADER_VALUE:
        return "control character in a header value";
    case BK_ERR_INVALID_URL:
        return "endpoint is not https://host[:port]";
    case BK_ERR_INVALID_KEY_NAME:
        return "key name is not primary or secondary";
    case BK_ERR_REQUEST_OVERFLOW:
        return "request does not fit the I/O buffer";
    case BK_ERR_INVALID_PROXY:
        return "proxy is not http://[user[:password]@]host[:port]";
    case BK_ERR_PROXY_CREDENTIALS_TOO_LONG:
        return "the proxy's user and password are too long";
    case BK_ERR_STREAM_SEND:
        return "send failed";
    case BK_ERR_STREAM_RECV:
        return "receive failed";
    case BK_ERR_STREAM_CLOSED:
        return "connection closed by peer";
    case BK_ERR_STREAM_STALLED:
        return "connection stalled";
    case BK_ERR_TIMEOUT:
        return "timed out";
    case BK_ERR_STREAM_UNCLEAN_CLOSE:
        return "connection closed without TLS close_notify";
    case BK_ERR_HTTP_STATUS_LINE:
        return "malformed HTTP status line";
    case BK_ERR_HTTP_HEADER_SYNTAX:
        return "malformed HTTP header";
    case BK_ERR_HTTP_BARE_LF:
        return "bare LF in HTTP response";
    case BK_ERR_HTTP_BARE_CR:
        return "bare CR in HTTP response";
    case BK_ERR_HTTP_OBS_FOLD:
        return "folded HTTP header line";
    case BK_ERR_HTTP_NUL:
        return "NUL byte in HTTP header";
    case BK_ERR_HTTP_EMPTY_HEADER_NAME:
        return "empty HTTP header name";
    case BK_ERR_HTTP_HEADERS_TOO_LARGE:
        return "HTTP header section too large";
    case BK_ERR_HTTP_BODY_TOO_LARGE:
        return "HTTP body too large";
    case BK_ERR_HTTP_LENGTH_AND_CHUNKED:
        return "both Content-Length and Transfer-Encoding";
    case BK_ERR_HTTP_LENGTH_CONFLICT:
        return "conflicting Content-Length values";
    case BK_ERR_HTTP_LENGTH_INVALID:
        return "invalid Content-Length";
    case BK_ERR_HTTP_TRANSFER_CODING:
        return "unsupported transfer coding";
    case BK_ERR_HTTP_CONTENT_CODING:
        return "unsupported content coding";
    case BK_ERR_HTTP_CHUNK_SIZE_INVALID:
        return "invalid chunk size";
    case BK_ERR_HTTP_CHUNK_SIZE_OVERFLOW:
        return "chunk size overflows";
    case BK_ERR_HTTP_CHUNK_SYNTAX:
        return "malformed chunked body";
    case BK_ERR_HTTP_TRUNCATED:
        return "connection closed before the response ended";
    case BK_ERR_JSON_SYNTAX:
        return "malformed JSON";
    case BK_ERR_JSON_TOO_MANY_TOKENS:
        return "JSON has too many tokens";
    case BK_ERR_JSON_MISSING_FIELD:
        return "JSON field missing";
    case BK_ERR_JSON_TYPE:
        return "JSON field has the wrong type";
    case BK_ERR_JSON_ESCAPE:
        return "invalid JSON string escape";
    case BK_ERR_JSON_FIELD_OVERFLOW:
        return "JSON string too long for its field";
    case BK_ERR_JSON_NUMBER:
        return "invalid JSON number";
    case BK_ERR_JSON_DUPLICATE_KEY:
        return "JSON field given twice";
    case BK_ERR_UNSUPPORTED:
        return "not supported on this platform";
    case BK_ERR_ENTROPY:
        return "no entropy";
    case BK_ERR_DNS:
        return "host name lookup failed";
    case BK_ERR_CONNECT:
        return "TCP connect failed";
    case BK_ERR_TLS_SETUP:
        return "TLS setup failed";
    case BK_ERR_TLS_CA:
        return "CA certificates could not be loaded";
    case BK_ERR_TLS_HANDSHAKE:
        return "TLS handshake failed";
    case BK_ERR_TLS_VERIFY:
        return "server certificate not trusted or host name mismatch";
    case BK_ERR_TLS_IO:
        return "TLS read or write failed";
    case BK_ERR_CRYPTO:
        return "cryptographic operation failed";
    case BK_ERR_BASE64:
        return "invalid base64";
    case BK_ERR_AUTH_REFUSED:
        return "Microsoft Entra ID refused the credential";
    case BK_ERR_ARM_UNAUTHORIZED:
        return "Azure Resource Manager did not accept the access token";
    case BK_ERR_ARM_REFUSED:
        return "Azure Resource Manager refused the operation";
    case BK_ERR_UNEXPECTED_STATUS:
        return "unexpected HTTP status";
    case BK_ERR_AUTH_CHALLENGE:
        return "the token endpoint asked for its challenge to be answered";
    case BK_ERR_AUTH_PENDING:
        return "the sign-in is not approved yet";
    case BK_ERR_ARC_CHALLENGE:
        return "the Azure Arc challenge names a file outside the agent's token directory, not a "
               ".key file, a symbolic link or a file too large: not read, nothing sent";
    case BK_ERR_CLIENT_CERT:
        return "the client certificate file holds no usable certificate and matching key";
    case BK_ERR_CLIENT_CERT_PASSWORD:
        return "the client certificate's key is encrypted: wrong or missing password";
    case BK_ERR_CLIENT_CERT_CIPHER:
        return "the client certificate's key is encrypted with a cipher this build cannot "
               "decrypt (mbedTLS 2.28 reads DES-EDE3-CBC: openssl pkcs8 -topk8 -v2 des3)";
    case BK_ERR_PROXY_REFUSED:
        return "the proxy refused the tunnel";
    case BK_ERR_PROXY_ANSWER:
        return "the proxy's answer to CONNECT is not HTTP or too long";
    case BK_ERR_SHARED_KEY_DISABLED:
        return "the account does not allow SharedKey authentication";
    case BK_ERR_KEY_REJECTED:
        return "the Batch service did not accept the key";
    case BK_ERR_STORE_NOT_FOUND:
        return "no saved record";
    case BK_ERR_STORE_IO:
        return "the record could not be read or written";
    case BK_ERR_STORE_FULL:
        return "no space left for the record";
    case BK_ERR_STORE_TOO_LARGE:
        return "the record is too large";
    case BK_ERR_STATE_CORRUPT:
        return "the rotation state is corrupt (checksum or format)";
    case BK_ERR_STATE_VERSION:
        return "the rotation state has a format version this build does not read";
    case BK_ERR_STATE_FOREIGN:
        return "the rotation state belongs to another account";
    case BK_ERR_ROTATION_CONFLICT:
        return "the keys were changed outside this rotation";
    case BK_ERR_ROTATION_INCOMPLETE:
        return "the rotation did not complete; the next run continues it";
    case BK_ERR_SERVICE_BUSY:
        return "the service is busy or unavailable; try again later";
    case BK_ERR_OUTCOME_UNKNOWN:
        return "regenerateKeys was sent and may have acted: outcome unknown";
    }
    return "unknown error";
}
