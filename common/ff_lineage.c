#include "ff_monitor.h"
#include "ff_util.h"
int ff_monitor_lineage(const struct ff_monitor_options *o, char **sources, int n)
{ (void)o; (void)sources; (void)n; return ff_error("lineage: not yet"); }
