/* ff-models: a registry of trained models: register artifacts under a name
 * as versions 1, 2, ..., alias, list, show, export and delete them, and ask
 * which models read which feature tables. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_db.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_registry.h"
#include "ff_registry_report.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-models [-r REGISTRY] COMMAND [ARG...]\n"
	"Keep trained models (ff-train artifacts) in a registry file under a name, as\n"
	"versions 1, 2, ... with aliases, and tell which models read which tables.\n"
	"\n"
	"  register NAME MODEL     store a copy of MODEL (a file, - for stdin) as the next\n"
	"                          version of NAME and print models:/NAME/VERSION; the\n"
	"                          same artifact again gives its version, no new one\n"
	"  list [NAME]             the versions of every model, or of NAME\n"
	"  show REF                a version's aliases, metrics, parameters, vector,\n"
	"                          tables and feature importance\n"
	"  alias NAME VERSION ALIAS  point ALIAS at a version (moved if it exists)\n"
	"  unalias NAME ALIAS      remove an alias\n"
	"  delete REF              delete a version (--force: even one an alias points to)\n"
	"  export REF              write the artifact as registered\n"
	"  uses TABLE[.FEATURE]    the models whose lookups read TABLE, or one feature\n"
	"  needs REF               the tables, table versions and features a model reads\n"
	"\n"
	"REF is models:/NAME/VERSION, models:/NAME@ALIAS or models:/NAME (the latest\n"
	"version); the models:/ prefix may be left out.\n"
	"\n"
	"  -r, --registry FILE     the registry (default $FF_REGISTRY, else models.db)\n"
	"      --alias ALIAS       register: also point ALIAS at the version (repeatable)\n"
	"      --description TEXT  register: describe the version\n"
	"      --force             delete: delete a version aliases point to, and them\n"
	"      --format FORMAT     list, uses, needs: text (default), csv or json;\n"
	"                          show: text or json\n"
	"  -o, --output FILE       export: write to FILE instead of stdout\n"
	"      --wait SECONDS      wait this long for another run's lock (default 30 s)\n"
	"  -q, --quiet             no warnings\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n";

enum { OPT_ALIAS = 256, OPT_DESCRIPTION, OPT_FORCE, OPT_FORMAT };

static const struct option options[] = {
	{"registry", required_argument, NULL, 'r'},
	{"alias", required_argument, NULL, OPT_ALIAS},
	{"description", required_argument, NULL, OPT_DESCRIPTION},
	{"force", no_argument, NULL, OPT_FORCE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"wait", required_argument, NULL, FF_OPT_WAIT},
	FF_OPT_COMMON,
};

/* Options that belong to one command or a few. */
enum { USE_ALIAS = 1, USE_DESCRIPTION = 2, USE_FORCE = 4, USE_FORMAT = 8, USE_OUTPUT = 16 };

struct ctx {
	const char *registry;
	struct ff_strlist aliases;
	const char *description;
	int force;
	enum ff_report_format format;
	const char *output;
	int used;          /* USE_ bits of the options given */
	int closed_stdout; /* ff_output_close closed it */
	struct ff_registry *reg;
};

static void check_name(const char *what, const char *s)
{
	if (ff_name_check(s, what, NULL) < 0) {
		ff_usage_hint();
		exit(FF_EXIT_USAGE);
	}
	if (!ff_registry_is_name(s))
		ff_usage_error("bad %s '%s': letters, digits, _ . - with a letter or _ first", what, s);
}

static void parse_ref(const char *text, struct ff_registry_ref *ref)
{
	if (ff_registry_ref_parse(text, ref) < 0) {
		ff_usage_hint();
		exit(FF_EXIT_USAGE);
	}
}

static int open_registry(struct ctx *c, enum ff_registry_mode mode)
{
	return ff_registry_open(ff_registry_path(c->registry), mode, &c->reg);
}

/* Open the registry and find the version ref stands for. */
static int open_ref(struct ctx *c, const struct ff_registry_ref *ref, int64_t *version)
{
	if (open_registry(c, FF_REGISTRY_READ) < 0)
		return -1;
	return ff_registry_resolve(c->reg, ref, version);
}

/* ---- register ---- */

static int cmd_register(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	check_name("model name", args[0]);
	for (size_t i = 0; i < c->aliases.n; i++)
		check_name("alias", c->aliases.v[i]);
	char *data = NULL;
	size_t len = 0;
	int64_t version;
	int existed, rc = -1;
	if (ff_read_file(args[1], &data, &len) == 0 && open_registry(c, FF_REGISTRY_WRITE) == 0 &&
	    ff_registry_register(c->reg, args[0], data, len, args[1], c->description, &c->aliases,
				 &version, &existed) == 0) {
		char *ref = ff_registry_ref_text(args[0], version);
		printf("%s\n", ref);
		free(ref);
		rc = 0;
	}
	free(data);
	return rc;
}

/* ---- list, show ---- */

static int cmd_list(struct ctx *c, char **args, int nargs)
{
	const char *name = nargs ? args[0] : NULL;
	if (name)
		check_name("model name", name);
	if (open_registry(c, FF_REGISTRY_READ) < 0)
		return -1;
	return ff_registry_report_list(c->reg, name, c->format, stdout);
}

/* A report of the version a reference stands for. */
typedef int (*version_report_fn)(struct ff_registry *r, const char *name, int64_t version,
				 enum ff_report_format format, FILE *out);

static int report_version(struct ctx *c, const char *text, version_report_fn report)
{
	struct ff_registry_ref ref;
	parse_ref(text, &ref);
	int64_t version;
	int rc = -1;
	if (open_ref(c, &ref, &version) == 0)
		rc = report(c->reg, ref.name, version, c->format, stdout);
	ff_registry_ref_release(&ref);
	return rc;
}

static int cmd_show(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	return report_version(c, args[0], ff_registry_report_show);
}

/* ---- alias, unalias, delete, export ---- */

static int cmd_alias(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	check_name("model name", args[0]);
	int64_t version;
	if (ff_parse_int64(args[1], strlen(args[1]), &version) < 0 || version < 1)
		ff_usage_error("bad version '%s': a whole number from 1", args[1]);
	check_name("alias", args[2]);
	if (open_registry(c, FF_REGISTRY_WRITE) < 0)
		return -1;
	return ff_registry_set_alias(c->reg, args[0], version, args[2]);
}

static int cmd_unalias(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	check_name("model name", args[0]);
	check_name("alias", args[1]);
	if (open_registry(c, FF_REGISTRY_WRITE) < 0)
		return -1;
	return ff_registry_unset_alias(c->reg, args[0], args[1]);
}

static int cmd_delete(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	struct ff_registry_ref ref;
	parse_ref(args[0], &ref);
	if (!ref.version && !ref.alias) {
		ff_registry_ref_release(&ref);
		ff_usage_error("delete %s: give the version to delete, as models:/NAME/VERSION",
			    args[0]);
	}
	int64_t version;
	int rc = -1;
	if (open_registry(c, FF_REGISTRY_WRITE) == 0 &&
	    ff_registry_resolve(c->reg, &ref, &version) == 0)
		rc = ff_registry_delete(c->reg, ref.name, version, c->force);
	ff_registry_ref_release(&ref);
	return rc;
}

static int cmd_export(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	struct ff_registry_ref ref;
	parse_ref(args[0], &ref);
	void *data = NULL;
	size_t len;
	int64_t version;
	int rc = -1;
	struct ff_output out;
	if (open_ref(c, &ref, &version) == 0 &&
	    ff_registry_artifact(c->reg, ref.name, version, &data, &len) == 0 &&
	    ff_output_open(&out, c->output) == 0) {
		int ok = fwrite(data, 1, len, out.f) == len;
		c->closed_stdout = out.f == stdout;
		rc = ff_output_close(&out, ok) == 0 && ok ? 0 : -1;
	}
	free(data);
	ff_registry_ref_release(&ref);
	return rc;
}

/* ---- lineage ---- */

static int cmd_uses(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	char *table = ff_xstrdup(args[0]);
	char *feature = strchr(table, '.');
	if (feature)
		*feature++ = '\0';
	if (!ff_is_identifier(table) || (feature && !ff_is_identifier(feature))) {
		free(table);
		ff_usage_error("bad table '%s': use TABLE or TABLE.FEATURE", args[0]);
	}
	int rc = -1;
	if (open_registry(c, FF_REGISTRY_READ) == 0)
		rc = ff_registry_report_uses(c->reg, table, feature, c->format, stdout);
	free(table);
	return rc;
}

static int cmd_needs(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	return report_version(c, args[0], ff_registry_report_needs);
}

/* ---- main ---- */

/* A command: nargs operands after its name, in args. Returns 0 or -1. */
typedef int (*command_fn)(struct ctx *c, char **args, int nargs);

struct command {
	const char *name;
	command_fn fn;
	int min, max; /* operands after the command */
	int uses;     /* USE_ bits allowed */
	int csv;      /* has a csv format */
	const char *args;
};

static const struct command commands[] = {
	{"register", cmd_register, 2, 2, USE_ALIAS | USE_DESCRIPTION, 0,
	 "NAME MODEL [--alias ALIAS]... [--description TEXT]"},
	{"list", cmd_list, 0, 1, USE_FORMAT, 1, "[NAME] [--format text|csv|json]"},
	{"show", cmd_show, 1, 1, USE_FORMAT, 0, "REF [--format text|json]"},
	{"alias", cmd_alias, 3, 3, 0, 0, "NAME VERSION ALIAS"},
	{"unalias", cmd_unalias, 2, 2, 0, 0, "NAME ALIAS"},
	{"delete", cmd_delete, 1, 1, USE_FORCE, 0, "REF [--force]"},
	{"export", cmd_export, 1, 1, USE_OUTPUT, 0, "REF [-o FILE]"},
	{"uses", cmd_uses, 1, 1, USE_FORMAT, 1, "TABLE[.FEATURE] [--format text|csv|json]"},
	{"needs", cmd_needs, 1, 1, USE_FORMAT, 1, "REF [--format text|csv|json]"},
};

static _Noreturn void command_usage(const struct command *cmd, const char *problem)
{
	fprintf(stderr, "%s: %s %s\nusage: ff-models [-r REGISTRY] %s %s\n", ff_progname(),
		cmd->name, problem, cmd->name, cmd->args);
	exit(FF_EXIT_USAGE);
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	struct ctx c = {0};
	int ch;
	while ((ch = getopt_long(argc, argv, ":r:o:qhV", options, NULL)) != -1) {
		switch (ch) {
		case 'r': c.registry = optarg; break;
		case OPT_ALIAS: ff_strlist_add(&c.aliases, optarg); c.used |= USE_ALIAS; break;
		case OPT_DESCRIPTION: c.description = optarg; c.used |= USE_DESCRIPTION; break;
		case OPT_FORCE: c.force = 1; c.used |= USE_FORCE; break;
		case OPT_FORMAT:
			c.format = (enum ff_report_format)ff_opt_enum("--format", optarg,
								      ff_report_format_names);
			c.used |= USE_FORMAT;
			break;
		case 'o': c.output = optarg; c.used |= USE_OUTPUT; break;
		default: ff_opt_default(ch, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ff_usage_error("%s", "no command: give register, list, show, alias, unalias, delete, "
				  "export, uses or needs");
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		ff_usage_error("unknown command '%s': use register, list, show, alias, unalias, "
			    "delete, export, uses "
			    "or needs",
			    argv[0]);
	int nargs = argc - 1;
	if (nargs < cmd->min)
		command_usage(cmd, "needs more arguments");
	if (nargs > cmd->max)
		command_usage(cmd, "has too many arguments");
	static const char *const option_names[] = {"--alias", "--description", "--force",
						   "--format", "--output"};
	for (int bit = 0; bit < 5; bit++)
		if ((c.used & (1 << bit)) && !(cmd->uses & (1 << bit))) {
			char msg[100];
			snprintf(msg, sizeof msg, "does not take %s", option_names[bit]);
			command_usage(cmd, msg);
		}
	if (c.format == FF_REPORT_CSV && !cmd->csv)
		command_usage(cmd, "has no csv format: use text or json");

	int rc = cmd->fn(&c, argv + 1, nargs);
	ff_registry_close(c.reg);
	ff_strlist_release(&c.aliases);
	if (rc == 0 && !c.closed_stdout && ff_close_stdout() < 0)
		rc = -1;
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
