/* Unit tests of common/ff_store_bind: the --stats line of table versions. */
#include <stdlib.h>

#include "ff_store_bind.h"
#include "unit.h"

int main(void)
{
	struct ff_table_binding t[] = {{"ahead", 1, 3}, {"behind", 7, 5}, {"same", 2, 2}, {"old", -1, 4}};
	struct ff_store_binding b = {NULL, t, 4};
	char *out = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&out, &size);
	ff_store_binding_report(&b, m);
	fclose(m);
	CHECK_STR(out, "; table versions ahead 3 (model 1, +2), behind 5 (model 7, -2), same 2 (model 2, +0), old 4",
		  "a version ahead of training's, behind it, equal, and one the blueprint lacks");
	free(out);
	return UNIT_DONE();
}
