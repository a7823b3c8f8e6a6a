/* mg_family.h: the table of model families (common/models/registry.c).
 *
 * A family is one file under common/models/ that reads one kind of Hugging Face
 * checkpoint for one role; its private state lives behind the role's ops table
 * (mg_encoder_ops for encoders, …). One checkpoint directory can serve several
 * roles: model_type gemma3 is both the gemma3-vision encoder and the Gemma 3
 * text decoder. Adding a family is one new file and one line in registry.c.
 */
#ifndef MG_FAMILY_H
#define MG_FAMILY_H

#include <stddef.h>
#include "mg_err.h"

typedef enum { MG_ROLE_ENCODER = 1, MG_ROLE_DECODER, MG_ROLE_TEXT_ENCODER, MG_ROLE_HEAD } mg_role;

typedef struct mg_family {
    const char *name;                 /* "siglip-vision", "gemma3-vision" … */
    mg_role role;
    const char *const *model_types;   /* config.json model_type strings claimed (NULL-terminated) */
    const void *ops;                  /* role-specific ops table (mg_encoder_ops, …) */
} mg_family;

/** The family claiming model_type for role; NULL if none. */
MG_MUST_CHECK const mg_family *mg_family_find(const char *model_type, mg_role role);
/** mg_family_find, or NULL with err: "config.json: model_type 'X' has no
 *  decoder (supported: …)", worded for the role. */
MG_MUST_CHECK const mg_family *mg_family_require(const char *model_type, mg_role role,
                                                 char *err, size_t errlen);
/** The model_type strings some family of role claims, comma-separated in
 *  registry order, into buf (for "supported: …" messages). Returns buf. */
const char *mg_family_types(mg_role role, char *buf, size_t n);

/* The table (registry.c): n families. */
extern const mg_family *const mg_families[];
extern const int mg_n_families;

#endif
