/* ff_registry_report: what ff-models prints of a model registry. Tables go
 * through ff_report (text: aligned columns, every one aligned left; CSV with
 * a header), JSON through ff_json with the registry's own shapes (aliases
 * and features as arrays, metrics as numbers). Each writes to out only once
 * its answer is whole, but JSON lists, which stream. Each returns 0 or -1
 * (reported: no model of that name, no such version, a registry error). */
#ifndef FF_REGISTRY_REPORT_H
#define FF_REGISTRY_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "ff_registry.h"
#include "ff_report.h"

/* The versions of every model, or of name: NAME VERSION ALIASES CREATED
 * HOLDOUT_RMSE in text; CSV and JSON add ref, size, hash, source and
 * description. */
int ff_registry_report_list(struct ff_registry *r, const char *name, enum ff_report_format format,
			    FILE *out);
/* One version: its aliases, metrics, parameters, vector, tables and feature
 * importance (highest first), in text or JSON (not CSV). */
int ff_registry_report_show(struct ff_registry *r, const char *name, int64_t version,
			    enum ff_report_format format, FILE *out);
/* The versions whose lookups read table (feature, if not NULL): in text
 * each reference once, in CSV and JSON a line per lookup. */
int ff_registry_report_uses(struct ff_registry *r, const char *table, const char *feature,
			    enum ff_report_format format, FILE *out);
/* The lookups of a version: table, table version and features. */
int ff_registry_report_needs(struct ff_registry *r, const char *name, int64_t version,
			     enum ff_report_format format, FILE *out);

#endif
