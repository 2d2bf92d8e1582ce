#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench's yardstick: `batchkey regenerate --key secondary` done the usual way in a shell,
# with curl and jq: the client-credentials token request, then regenerateKeys with that token.
# Reads the variables with_emulator.sh exports; prints the account's keys as the answer has them.
set -eu
token=$(curl -sS --fail --cacert "$BATCHKEY_CA_FILE" \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$AZURE_CLIENT_ID" \
    --data-urlencode "client_secret=$AZURE_CLIENT_SECRET" \
    --data-urlencode scope=https://management.azure.com/.default \
    "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" | jq -r .access_token)
account="subscriptions/$AZURE_SUBSCRIPTION_ID/resourceGroups/$BATCHKEY_RESOURCE_GROUP"
account="$account/providers/Microsoft.Batch/batchAccounts/$BATCHKEY_ACCOUNT"
curl -sS --fail --cacert "$BATCHKEY_CA_FILE" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"keyName":"Secondary"}' \
    "$BATCHKEY_ARM_ENDPOINT/$account/regenerateKeys?api-version=2024-07-01"
echo
