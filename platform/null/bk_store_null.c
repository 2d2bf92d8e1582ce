/* SPDX-License-Identifier: MIT */
/* The null store: a bk_store (bk_platform.h) whose save and load both answer BK_ERR_UNSUPPORTED,
 * for a board that keeps no records yet. It never pretends: a save is not silently dropped, a
 * load never says "not found" (which a caller could take for "nothing was ever saved").
 *
 *     bk_store bk_null_store(void);   // declared in core/bk_platform.h
 *
 *     bk_store store = bk_null_store();
 *     r = store.save(store.ctx, "rotation", record, len);   // BK_ERR_UNSUPPORTED */
#include "bk_platform.h"

static bk_result bk_null_store_save(void *ctx, const char *name, const uint8_t *data, size_t len) {
    (void)ctx;
    (void)name;
    (void)data;
    (void)len;
    return BK_ERR_UNSUPPORTED;
}

static bk_result bk_null_store_load(void *ctx, const char *name, uint8_t *buf, size_t cap,
                                    size_t *len) {
    (void)ctx;
    (void)name;
    (void)buf;
    (void)cap;
    if (len != NULL) {
        *len = 0;
    }
    return BK_ERR_UNSUPPORTED;
}

bk_store bk_null_store(void) {
    bk_store store;
    store.save = bk_null_store_save;
    store.load = bk_null_store_load;
    store.ctx = NULL;
    return store;
}
