/* Unit tests for mg_preset: every listed preset applies with its kind, keeps
 * the fields it does not own, and an unknown name is refused with the list. */
#include <stdio.h>
#include <string.h>

#include "mg_preset.h"

static int fails;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s (line %d)\n", name, __LINE__); fails++; } } while (0)

int main(void)
{
    char err[256];
    size_t n;
    const mg_preset_info *list = mg_preset_list(&n);
    int ok = n == 7;
    for (size_t i = 0; i < n; i++) {
        mg_prep_opts o = mg_prep_opts_default();
        ok &= mg_preset_apply(list[i].name, &o, err, sizeof err) == 0 && o.kind == list[i].kind &&
              o.preset && !strcmp(o.preset, list[i].name);
    }
    CHECK("every_listed_preset_applies_with_its_kind", ok);

    mg_prep_opts o = mg_prep_opts_default();
    o.vol.minmax = 1;
    CHECK("medsiglip_448_is_448_square", mg_preset_apply("medsiglip-448", &o, err, sizeof err) == 0 &&
          o.img.size_w == 448 && o.img.size_h == 448 && o.img.pad_square && o.img.mean[2] == 0.5);
    CHECK("a_2d_preset_keeps_the_volume_options", o.vol.minmax == 1 && o.slices == 0);

    o = mg_prep_opts_default();
    CHECK("medgemma_ct_slices_with_three_windows", mg_preset_apply("medgemma-ct", &o, err, sizeof err) == 0 &&
          o.kind == MG_PRESET_3D && o.slices == 85 && o.nwin == 3 && o.win[1][0] == -135 && o.img.size_w == 896);
    o = mg_prep_opts_default();
    CHECK("merlin_spacing_and_crop", mg_preset_apply("merlin", &o, err, sizeof err) == 0 && o.vol.ras &&
          o.vol.spacing[2] == 3 && o.vol.crop_pad[2] == 160);

    o = mg_prep_opts_default();
    CHECK("unknown_preset_refused_with_the_names",
          mg_preset_apply("medsiglip", &o, err, sizeof err) < 0 && strstr(err, "'medsiglip'") &&
          strstr(err, "medgemma-ct") && o.kind == MG_PRESET_NONE && !o.preset);
    return fails ? 1 : 0;
}
