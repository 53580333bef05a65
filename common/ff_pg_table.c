/* ff_pg_table: a feature table of a PostgreSQL store as its SQL sees it
 * (ff_pg_table.h). */
#include "ff_pg_table.h"

#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

size_t ff_pg_table_pk(const struct ff_table_def *def, size_t *cols)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < def->ncols; i++)
			if (def->cols[i].role == (pass ? FF_ROLE_KEY : FF_ROLE_TIMESTAMP))
				cols[n++] = i;
	return n;
}

void ff_pg_table_init(struct ff_pg_table *t, const struct ff_table_def *def)
{
	size_t n = def->ncols;
	memset(t, 0, sizeof *t);
	t->name = def->name;
	t->rows = ff_xcalloc(n + 1, sizeof *t->rows);
	t->pk = ff_xcalloc(n + 1, sizeof *t->pk);
	t->pk_cols = ff_xcalloc(n + 1, sizeof *t->pk_cols);
	t->state = ff_xcalloc(n + 1, sizeof *t->state);
	t->changes = ff_xcalloc(n + 2, sizeof *t->changes);
	t->img = ff_xcalloc(n + 1, sizeof *t->img);
	t->hs = ff_xcalloc(n + 2, sizeof *t->hs);
	t->row_keys = ff_xcalloc(n + 1, sizeof *t->row_keys);
	t->state_keys = ff_xcalloc(n + 1, sizeof *t->state_keys);
	for (size_t i = 0; i < n; i++) {
		t->rows[i] = (struct ff_pg_col){def->cols[i].name, ff_pg_kind_of(def->cols[i].type)};
		if (def->cols[i].role != FF_ROLE_PARTITION)
			t->img[t->nimg++] = t->rows[i];
	}
	t->nrows = n;
	t->img[t->nimg++] = (struct ff_pg_col){"ff_valid_to", FF_PG_INT};
	t->npk = ff_pg_table_pk(def, t->pk_cols);
	t->changes[0] = (struct ff_pg_col){"version", FF_PG_INT};
	t->changes[1] = (struct ff_pg_col){"op", FF_PG_TEXT};
	for (size_t k = 0; k < t->npk; k++) {
		size_t i = t->pk_cols[k];
		t->pk[k] = t->state[k] = t->changes[k + 2] = t->hs[k] = t->rows[i];
		if (def->cols[i].role == FF_ROLE_KEY) {
			t->row_keys[t->nkeys] = i;
			t->state_keys[t->nkeys++] = k;
		}
	}
	t->state[t->npk] = (struct ff_pg_col){"state", FF_PG_BLOB};
	t->nstate = t->npk + 1;
	t->nchanges = t->npk + 2;
	t->hs[t->npk] = (struct ff_pg_col){"ff_valid_to", FF_PG_INT};
	t->hs[t->npk + 1] = (struct ff_pg_col){"state", FF_PG_BLOB};
	t->nhs = t->npk + 2;
	ff_db_quote(t->q, sizeof t->q, def->name);
	ff_db_side_name(t->qstate, sizeof t->qstate, "ff_state_", def->name);
	ff_db_side_name(t->qchanges, sizeof t->qchanges, "ff_changes_", def->name);
	ff_db_side_name(t->qhistory, sizeof t->qhistory, "ff_history_", def->name);
	ff_db_side_name(t->qhiststate, sizeof t->qhiststate, "ff_histstate_", def->name);
	ff_db_side_name(t->qtouched, sizeof t->qtouched, "ff_touched_", def->name);
	ff_db_side_name(t->qtouched_state, sizeof t->qtouched_state, "ff_touched_state_", def->name);
}

void ff_pg_table_release(struct ff_pg_table *t)
{
	free(t->rows);
	free(t->pk);
	free(t->pk_cols);
	free(t->state);
	free(t->changes);
	free(t->img);
	free(t->hs);
	free(t->row_keys);
	free(t->state_keys);
	memset(t, 0, sizeof *t);
}
