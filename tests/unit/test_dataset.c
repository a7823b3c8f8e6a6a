/* Unit tests for mg_dataset: the id join (ids missing on either side counted,
 * named and listed), the duplicated-id check, column choice by name, and task
 * inference (binary, multiclass, multilabel, continuous). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mg_dataset.h"
#include "mg_pool.h"

static int fails;
#define CHECK(name, cond) do { if (cond) printf("PASS %s\n", name); \
    else { printf("FAIL %s (line %d)\n", name, __LINE__); fails++; } } while (0)

static char dir[] = "/tmp/mg_test_dataset_XXXXXX";

static const char *put(const char *name, const char *text)
{
    static char path[8][256];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0) { perror(p); exit(1); }
    return p;
}

static int load(mg_dataset *d, const char *pred, const char *truth, mg_dataset_opts *o,
                char *err, size_t errlen)
{
    const char *ep;
    return mg_dataset_load(d, pred, truth, o, err, errlen, &ep);
}

int main(void)
{
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char err[256];
    mg_pool *pool = mg_pool_create(2);
    mg_dataset_opts o = { .id_col = "id", .task = -1, .probabilities = 1, .pool = pool };
    mg_dataset d;

    /* binary: ids c (predictions only) and e (truth only) are left out, counted and named */
    const char *p = put("p.tsv", "id\tscore\na\t0.1\nb\t0.9\nc\t0.5\nd\t0.7\n");
    const char *y = put("y.tsv", "id\tlabel\ne\t1\nd\t1\nb\t0\na\t1\n");
    int r = load(&d, p, y, &o, err, sizeof err);
    CHECK("binary_join_loads", r == 0 && d.task == MG_TASK_BINARY && d.n == 3);
    CHECK("join_keeps_prediction_order", r == 0 && d.join.a_row[0] == 0 && d.join.a_row[1] == 1 &&
          d.join.a_row[2] == 3 && d.join.b_row[0] == 3 && d.join.b_row[2] == 1);
    CHECK("missing_ids_counted_on_both_sides", d.join.a_only == 1 && d.join.b_only == 1 &&
          d.join.first_a_only && !strcmp(d.join.first_a_only, "c") &&
          d.join.first_b_only && !strcmp(d.join.first_b_only, "e"));
    CHECK("scores_and_labels_in_case_order", r == 0 && d.s[1] == 0.9 && d.y[0] == 1 && d.y[1] == 0 && d.y[2] == 1);
    {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int wr = mg_join_write_missing(&d.join, &d.pred, &d.truth, "predictions", "truth", f);
        fclose(f);
        CHECK("missing_ids_listed", wr == 0 && !strcmp(buf, "side\tid\npredictions\tc\ntruth\te\n"));
        free(buf);
    }
    mg_dataset_free(&d);

    /* multiclass: one label column naming the score columns */
    p = put("mc.tsv", "id\tcat\tdog\tfox\n1\t0.2\t0.3\t0.5\n2\t0.6\t0.2\t0.2\n");
    y = put("mcy.tsv", "id\tlabel\n2\tcat\n1\tfox\n");
    r = load(&d, p, y, &o, err, sizeof err);
    CHECK("multiclass_inferred", r == 0 && d.task == MG_TASK_MULTICLASS && d.k == 3 && d.cls[0] == 2 && d.cls[1] == 0);
    mg_dataset_free(&d);

    /* multilabel without a truth table: labels named by column, matched to scores by name */
    p = put("ml.tsv", "id\tA\tB\tyB\tyA\nx\t0.1\t0.8\t1\t0\nz\t0.4\t0.3\t0\t1\n");
    mg_dataset_opts om = o;
    om.score_cols = "A,B";
    om.label_cols = "yB,yA";
    r = load(&d, p, NULL, &om, err, sizeof err);
    CHECK("multilabel_from_columns_of_one_table", r == 0 && d.task == MG_TASK_MULTILABEL && d.n == 2 && d.nlabel == 2);
    CHECK("multilabel_by_position_when_names_differ", r == 0 && d.y[0] == 1 && d.y[1] == 0 && d.y[2] == 0 && d.y[3] == 1);
    mg_dataset_free(&d);
    om.label_cols = NULL;
    r = load(&d, p, NULL, &om, err, sizeof err);
    CHECK("no_truth_and_no_label_columns_is_usage", r == -2);
    mg_dataset_free(&d);

    /* continuous outcome, only when asked for */
    p = put("c.tsv", "id\tscore\nu\t1.5\nv\t-2\nw\t7\n");
    y = put("cy.tsv", "id\tbmi\nu\t21.5\nv\t30.25\nw\t1\n");
    mg_dataset_opts oc = o;
    oc.allow_continuous = 1;
    r = load(&d, p, y, &oc, err, sizeof err);
    CHECK("continuous_inferred", r == 0 && d.task == MG_TASK_CONTINUOUS && d.yc[1] == 30.25 && d.s[1] == -2);
    mg_dataset_free(&d);
    r = load(&d, p, y, &o, err, sizeof err);
    CHECK("continuous_labels_rejected_by_default", r == -1 && strstr(err, "outside [0,1]"));
    mg_dataset_free(&d);

    /* errors name what is wrong */
    p = put("dup.tsv", "id\tscore\na\t0.1\na\t0.2\n");
    y = put("y2.tsv", "id\tlabel\na\t1\n");
    const char *ep = NULL;
    r = mg_dataset_load(&d, p, y, &o, err, sizeof err, &ep);
    CHECK("duplicated_id_named_with_its_table", r == -1 && strstr(err, "duplicated id 'a'") && ep == p);
    mg_dataset_free(&d);
    p = put("q.tsv", "id\tscore\nq\t0.1\n");
    r = mg_dataset_load(&d, p, y, &o, err, sizeof err, &ep);
    CHECK("no_common_id_is_an_error", r == -1 && strstr(err, "no id in common"));
    mg_dataset_free(&d);
    om.label_cols = "nope";
    r = load(&d, put("ml2.tsv", "id\tA\nx\t0.1\n"), NULL, &om, err, sizeof err);
    CHECK("unknown_label_column_named", r == -1 && strstr(err, "no label column 'nope'"));
    mg_dataset_free(&d);

    /* ids held in memory (an embedding stream's records) joined to a labels table */
    {
        const char *ids[] = { "s3", "s1", "s9" }, *bad[] = { "ok", "#x" };
        mg_table a, b, c;
        mg_join j;
        const char *jep;
        y = put("labels.tsv", "id\tdisease\ns1\t1\ns2\t0\ns3\t0\n");
        int ra = mg_table_from_ids(&a, ids, 3, "emb.mgt", err, sizeof err);
        int rb = mg_table_read(&b, y, "id", NULL, err, sizeof err);
        int rj = ra == 0 && rb == 0 ? mg_join_ids(&a, &b, NULL, &j, &jep, err, sizeof err) : -1;
        CHECK("ids_in_memory_join_a_labels_table", rj == 0 && j.n == 2 && j.b_row[0] == 2 && j.b_row[1] == 0 &&
              j.a_only == 1 && !strcmp(j.first_a_only, "s9") && j.b_only == 1 && !strcmp(j.first_b_only, "s2"));
        if (rj == 0) mg_join_free(&j);
        mg_table_free(&a); mg_table_free(&b);
        CHECK("id_that_cannot_be_a_cell_is_refused",
              mg_table_from_ids(&c, bad, 2, "emb.mgt", err, sizeof err) < 0 && strstr(err, "record 2"));
        mg_table_free(&c);
    }

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    mg_pool_free(pool);
    return fails ? 1 : 0;
}
