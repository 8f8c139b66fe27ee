/* source_nats_stub.c - used when nahr is built without libnats: a config
 * asking for a NATS input gets a clear error instead of a crash. */
#include "runner.h"

int nahr__nats_check(config_setting_t *input, const char *cfg_file, nahr_buf *err)
{
    nahr_buf_printf(err,
                    "%s:%d: input: type \"nats\" needs nahr built with libnats (Debian: libnats-dev; "
                    "scripts/bootstrap installs it)\n",
                    cfg_file, config_setting_source_line(input));
    return 1;
}

int nahr__nats_read(config_setting_t *input, reader_sink *s, nahr_source_stats *stats)
{
    (void)input;
    (void)s;
    (void)stats;
    nahr_log(NAHR_LOG_ERROR, "NATS input not available in this build");
    return NAHR_EINVAL;
}
