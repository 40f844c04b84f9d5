/* common.h - what several commands share: the model they default to, and
 * the options that open an engine (data directory, model, collection,
 * preprocessing), each from a flag, else a DINOSEEK_* variable, else the
 * default. */
#ifndef DS_CMD_COMMON_H
#define DS_CMD_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include "engine/engine.h"

/* $DINOSEEK_MODEL, else the cached facebook/dinov2-small when present, else
 * NULL. buf (size n) may receive the path. */
const char *cmd_default_model(char *buf, size_t n);

/* Settings other than flags, by name ("data", "listen", "api-key", ...):
 * the environment variable DINOSEEK_<NAME> ("DINOSEEK_API_KEY"), else the
 * configuration file, else NULL. Flags, applied after, win over both. */
const char *cmd_setting(const char *name);

/* Load the configuration file: --config FILE in argv, else $DINOSEEK_CONFIG,
 * else ./dinoseek.conf when it exists. Lines are "name = value" (names as the
 * long flags), '#' starts a comment. Returns 0, or -1 after printing the file
 * and line of a mistake (an unknown name is a mistake when known[] is given). */
int cmd_config_load(int argc, char **argv, const char *const *known, const char *cmd);

/* The reading behind cmd_config_load (and its fuzz target): the settings of
 * the file f (named path in messages) replace those loaded before. Returns
 * 0, or -1 with "PATH:LINE: what is wrong" in msg (size msg_n). */
int cmd_config_parse(FILE *f, const char *path, const char *const *known, char *msg,
                     size_t msg_n);

/* Engine options. cmd_engine_defaults fills them from cmd_setting;
 * cmd_engine_option applies one flag (name without "--") and returns 1 when
 * it was one of them, 0 when not, -1 when its value is bad (message printed). */
typedef struct cmd_engine_opts {
    eng_config cfg;
    char model_buf[4096];
    eng_extra extra[7];      /* --collection-model NAME=DIR */
    char extra_buf[7][4096];
} cmd_engine_opts;

/* Returns 0, or -1 when a setting from DINOSEEK_* or the file is bad (said
 * on stderr): the command then exits 2, as for a bad flag. */
int cmd_engine_defaults(cmd_engine_opts *o);
int cmd_engine_option(cmd_engine_opts *o, const char *cmd, const char *name, const char *value);

/* The long options every engine-opening command takes, each handled by
 * cmd_engine_option (getopt value 1), for the commands' option tables. */
#define CMD_ENGINE_LONG_OPTIONS                                                        \
    {"data", required_argument, 0, 1}, {"model", required_argument, 0, 1},             \
    {"collection", required_argument, 0, 1}, {"preprocess", required_argument, 0, 1},  \
    {"index", required_argument, 0, 1}, {"collection-model", required_argument, 0, 1}, \
    {"blobs", required_argument, 0, 1}, {"s3-endpoint", required_argument, 0, 1},      \
    {"s3-region", required_argument, 0, 1}, {"s3-addressing", required_argument, 0, 1}, \
    {"s3-timeout-ms", required_argument, 0, 1}, {"milvus-uri", required_argument, 0, 1}, \
    {"milvus-token", required_argument, 0, 1}, {"milvus-db", required_argument, 0, 1},   \
    {"milvus-timeout-ms", required_argument, 0, 1}, {"milvus-prefix", required_argument, 0, 1}, \
    {"precision", required_argument, 0, 1}

/* Every setting a configuration file may hold. */
extern const char *const cmd_known_settings[];

/* The help text of those options. */
extern const char cmd_engine_help[];

/* Open the engine, printing a clear error on failure. */
eng *cmd_open_engine(cmd_engine_opts *o, const char *cmd);

#endif
