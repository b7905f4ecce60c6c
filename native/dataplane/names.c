/*
 * Names and help texts of drop reasons, punt kinds and counters, generated from the X-macro
 * lists in drop_reasons.h: what the addon exports to TypeScript.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

/* ---- names, generated from the X-macro lists ---- */

static const char *const drop_names[] = {
#define DP_X(name, help) #name,
	DP_DROP_REASONS(DP_X)
#undef DP_X
};
static const char *const drop_helps[] = {
#define DP_X(name, help) help,
	DP_DROP_REASONS(DP_X)
#undef DP_X
};
static const char *const punt_names[] = {
#define DP_X(name, help) #name,
	DP_PUNT_KINDS(DP_X)
#undef DP_X
};
static const char *const punt_helps[] = {
#define DP_X(name, help) help,
	DP_PUNT_KINDS(DP_X)
#undef DP_X
};
static const char *const wctr_names[] = {
#define DP_X(name, help) #name,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
};
static const char *const wctr_helps[] = {
#define DP_X(name, help) help,
	DP_WORKER_COUNTERS(DP_X)
#undef DP_X
};

const char *
dp_drop_reason_name(unsigned i)
{
	return i < DP_DROP_MAX ? drop_names[i] : NULL;
}
const char *
dp_drop_reason_help(unsigned i)
{
	return i < DP_DROP_MAX ? drop_helps[i] : NULL;
}
const char *
dp_punt_kind_name(unsigned i)
{
	return i < DP_PUNT_MAX ? punt_names[i] : NULL;
}
const char *
dp_punt_kind_help(unsigned i)
{
	return i < DP_PUNT_MAX ? punt_helps[i] : NULL;
}
const char *
dp_worker_counter_name(unsigned i)
{
	return i < DP_WCTR_MAX ? wctr_names[i] : NULL;
}
const char *
dp_worker_counter_help(unsigned i)
{
	return i < DP_WCTR_MAX ? wctr_helps[i] : NULL;
}

static const char *const pctr_names[] = {
#define DP_X(name, help) #name,
	DP_PORT_COUNTERS(DP_X)
#undef DP_X
};
static const char *const pctr_helps[] = {
#define DP_X(name, help) help,
	DP_PORT_COUNTERS(DP_X)
#undef DP_X
};
const char *
dp_port_counter_name(unsigned i)
{
	return i < DP_PCTR_MAX ? pctr_names[i] : NULL;
}
const char *
dp_port_counter_help(unsigned i)
{
	return i < DP_PCTR_MAX ? pctr_helps[i] : NULL;
}
