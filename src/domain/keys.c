/* keys.c — see keys.h. */
#include "keys.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/secret.h"

static os_err master_from_file(const char *dir, unsigned char key[32], char *err, size_t errlen) {
    char path[4200], hex[65] = "";
    snprintf(path, sizeof path, "%s/secret.key", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, hex, 64);
        close(fd);
        hex[n > 0 ? n : 0] = 0;
        if (!secret_hex32(hex, key)) {
            snprintf(err, errlen, "%s does not hold 64 hex characters", path);
            return OS_ERR_INVALID;
        }
        return OS_OK;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return OS_ERR_IO;
    }
    /* O_EXCL: if two processes start at once, one creates and the other reads it. */
    secret_random(key, 32);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) { usleep(50000); return master_from_file(dir, key, err, errlen); }
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return OS_ERR_IO;
    }
    bool ok = write(fd, hex, 64) == 64 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s", path);
        return OS_ERR_IO;
    }
    return OS_OK;
}

/* The database remembers a fingerprint of the key its authorization numbers were sealed
 * with (a subkey of it, not the key): an instance started with another key — a second
 * machine without the same secret, a lost DATA/secret.key — refuses to start instead of
 * sealing numbers the others cannot open. */
static os_err check_master(app *a, const unsigned char master[32], char *err, size_t errlen) {
    unsigned char check[32];
    char hex[65];
    secret_subkey(master, 3, "keycheck", check);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", check[i]);
    store_conn *c = store_conn_get(a->st);
    if (!c) { snprintf(err, errlen, "no database connection"); return OS_ERR_STORE; }
    arena ar;
    arena_init(&ar, 4096);
    const char *stored = NULL;
    os_err e = st_setting_init(c, &ar, "secret_key_check", hex, &stored);
    if (e) snprintf(err, errlen, "cannot check the secret key: %s", os_err_name(e));
    else if (!secret_equal(stored, hex)) {
        snprintf(err, errlen, "this database was sealed with another secret key: give every instance the same"
                              " --secret-key (or the same DATA/secret.key)");
        e = OS_ERR_INVALID;
    }
    arena_free(&ar);
    return e;
}

os_err keys_load(app *a, char *err, size_t errlen) {
    unsigned char master[32];
    os_err e;
    if (a->cfg->secret_key) {
        if (!secret_hex32(a->cfg->secret_key, master)) {
            snprintf(err, errlen, "--secret-key must be 64 hex characters");
            return OS_ERR_INVALID;
        }
    } else if ((e = master_from_file(a->cfg->data_dir, master, err, errlen))) {
        return e;
    }
    secret_subkey(master, 1, "authnoMC", a->keys.authno_mac);
    secret_subkey(master, 2, "authnoSL", a->keys.authno_seal);
    secret_subkey(master, 4, "webhkSL_", a->keys.webhook_seal);
    if ((e = check_master(a, master, err, errlen))) return e;
    if (a->cfg->handoff_key) {
        if (!secret_hex32(a->cfg->handoff_key, a->keys.handoff)) {
            snprintf(err, errlen, "--handoff-key must be 64 hex characters");
            return OS_ERR_INVALID;
        }
        return OS_OK;
    }
    store_conn *c = store_conn_get(a->st);
    if (!c) { snprintf(err, errlen, "no database connection"); return OS_ERR_STORE; }
    unsigned char fresh[32];
    char hex[65];
    secret_random(fresh, 32);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
    arena ar;
    arena_init(&ar, 4096);
    const char *stored = NULL;
    e = st_setting_init(c, &ar, "handoff_key", hex, &stored);
    if (!e && !secret_hex32(stored, a->keys.handoff)) e = OS_ERR_INVALID;
    if (e) snprintf(err, errlen, "cannot load the hand-off key: %s", os_err_name(e));
    arena_free(&ar);
    return e;
}
