/* mg_family.c: lookups in the family table. */
#include "mg_family.h"
#include "mg_err.h"

#include <stdio.h>
#include <string.h>

const mg_family *mg_family_find(const char *model_type, mg_role role)
{
    for (int i = 0; i < mg_n_families; i++) {
        const mg_family *f = mg_families[i];
        if (f->role != role) continue;
        for (const char *const *t = f->model_types; *t; t++)
            if (strcmp(*t, model_type) == 0) return f;
    }
    return NULL;
}

const char *mg_family_types(mg_role role, char *buf, size_t n)
{
    size_t k = 0;
    if (n) buf[0] = 0;
    for (int i = 0; i < mg_n_families; i++) {
        if (mg_families[i]->role != role) continue;
        for (const char *const *t = mg_families[i]->model_types; *t && k < n; t++)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? ", " : "", *t);
    }
    return buf;
}

const mg_family *mg_family_require(const char *model_type, mg_role role, char *err, size_t errlen)
{
    const mg_family *f = mg_family_find(model_type, role);
    if (f) return f;
    static const char *const fmt[] = {
        [MG_ROLE_ENCODER] = "config.json: unsupported model_type '%s' (supported: %s)",
        [MG_ROLE_DECODER] = "config.json: model_type '%s' has no decoder (supported: %s)",
        [MG_ROLE_TEXT_ENCODER] = "config.json: model_type '%s' has no text encoder (supported: %s)",
        [MG_ROLE_HEAD] = "config.json: model_type '%s' is not a head (supported: %s)",
    };
    char types[512];
    mg_seterr(err, errlen, fmt[role], model_type, mg_family_types(role, types, sizeof types));
    return NULL;
}
