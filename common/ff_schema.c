#include "ff_schema.h"

#include <stdlib.h>
#include <string.h>

static const char *type_names[] = {"text", "integer", "real", "timestamp"};
static const char *role_names[] = {"key", "timestamp", "feature", "partition"};

const char *ff_type_name(enum ff_type t) { return type_names[t]; }
const char *ff_role_name(enum ff_role r) { return role_names[r]; }

static int lookup(const char **names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int ff_type_parse(const char *name) { return lookup(type_names, 4, name); }
int ff_role_parse(const char *name) { return lookup(role_names, 4, name); }

void ff_table_def_release(struct ff_table_def *def)
{
	if (!def)
		return;
	for (size_t i = 0; i < def->ncols; i++) {
		free(def->cols[i].name);
		free(def->cols[i].description);
	}
	free(def->cols);
	free(def->name);
	free(def->definition);
	free(def->spec);
	memset(def, 0, sizeof *def);
}
