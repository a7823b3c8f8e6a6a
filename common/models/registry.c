/* registry.c: every model family, one line each. A family file defines
 * `const mg_family mg_family_<id>`; the order here is the order of lookups and
 * of "supported" lists in error messages. */
#include "../mg_family.h"

#define FAMILIES(X) \
    X(siglip_vision) \
    X(gemma3_vision) \
    X(dinov2) \
    X(vit) \
    X(vit3d) \
    X(i3d_resnet) \
    X(gemma3_text) \
    X(siglip_text) \
    X(head_linear) \
    X(head_mlp)

#define DECLARE(id) extern const mg_family mg_family_##id;
FAMILIES(DECLARE)
#define ENTRY(id) &mg_family_##id,
const mg_family *const mg_families[] = { FAMILIES(ENTRY) };
const int mg_n_families = (int)(sizeof mg_families / sizeof mg_families[0]);
