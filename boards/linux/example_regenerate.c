/* Regenerate a Batch account key from C with the batchkey library.
 *
 * Build (see the Makefile's board rules): link core/, port/jsmn, port/mbedtls, platform/posix
 * and -lmbedtls -lmbedx509 -lmbedcrypto. Run with the same variables as the CLI:
 *   AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID,
 *   BATCHKEY_RESOURCE_GROUP, BATCHKEY_ACCOUNT, optional BATCHKEY_ARM_ENDPOINT,
 *   AZURE_AUTHORITY_HOST and BATCHKEY_CA_FILE.
 * Prints the new secondary key's length (not the key) and exits 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_tls_connector.h"

static const char *env_or(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

int main(void) {
    static bk_tls_config tls;
    static bk_tls_peers peers;
    static bk_client client; /* ~45 KiB of buffers: not for a small stack */

    bk_result r = bk_tls_config_init(&tls, env_or("BATCHKEY_CA_FILE", NULL));
    if (r != BK_OK) {
        fprintf(stderr, "TLS setup: %s\n", bk_strerror(r));
        return 1;
    }
    bk_client_init(&client, bk_tls_connector(&peers, &tls, 30000));
    if (bk_endpoint_parse(&client.arm, env_or("BATCHKEY_ARM_ENDPOINT",
                                              "https://management.azure.com")) != BK_OK ||
        bk_endpoint_parse(&client.authority,
                          env_or("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com")) !=
            BK_OK) {
        fprintf(stderr, "bad endpoint\n");
        bk_tls_config_free(&tls);
        return 2;
    }
    client.credential.kind = BK_CREDENTIAL_CLIENT_SECRET;
    client.credential.tenant_id = env_or("AZURE_TENANT_ID", "");
    client.credential.client_id = env_or("AZURE_CLIENT_ID", "");
    client.credential.client_secret = env_or("AZURE_CLIENT_SECRET", "");
    client.account.subscription_id = env_or("AZURE_SUBSCRIPTION_ID", "");
    client.account.resource_group = env_or("BATCHKEY_RESOURCE_GROUP", "");
    client.account.account_name = env_or("BATCHKEY_ACCOUNT", "");

    bk_account_keys keys;
    r = bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys);
    if (r == BK_OK) {
        printf("regenerated the secondary key of %s (%zu characters)\n", keys.account_name,
               strlen(keys.secondary));
    } else if (r == BK_ERR_ARM_REFUSED) {
        fprintf(stderr, "refused: HTTP %d %s: %s\n", client.response.status,
                client.cloud_error.code, client.cloud_error.message);
    } else {
        fprintf(stderr, "failed: %s\n", bk_strerror(r));
    }
    bk_wipe(&keys, sizeof keys);
    bk_client_close(&client);
    bk_tls_config_free(&tls);
    return r == BK_OK ? 0 : 1;
}
