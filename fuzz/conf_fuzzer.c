/* conf_fuzzer.c - fuzz target for the configuration file reader
 * (cmd_config_parse, the reading behind cmd_config_load): the input is a
 * file's bytes, read through a memory stream as from disk, with the
 * settings every command knows. Asserted (a broken one aborts):
 *   - a refusal names "PATH:LINE: " with LINE a line the file has;
 *   - after an accepted file, every setting read back (cmd_setting; no
 *     DINOSEEK_* variable is set here) is a value of the file as a user
 *     means it: no '#' comment, no newline, no blanks around it, shorter
 *     than the value limit, found with its name on one line of the file
 *     before any '#' (a long comment must not spill into a setting).
 * Replay with `make build/fuzz/conf_fuzzer_replay &&
 * build/fuzz/conf_fuzzer_replay fuzz/corpus/conf_fuzzer`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"

/* Whether one line of the file, up to a NUL or '#', holds name and value. */
static int on_a_line(const uint8_t *data, size_t size, const char *name, const char *value)
{
    for (size_t start = 0; start < size;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size, stop = start;
        while (stop < end && data[stop] != '\0' && data[stop] != '#')
            stop++;
        if (memmem(data + start, stop - start, name, strlen(name)) &&
            (!*value || memmem(data + start, stop - start, value, strlen(value))))
            return 1;
        start = end + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char PATH[] = "fuzz.conf";

static void require(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        /* cmd_setting reads DINOSEEK_<NAME> before the file. */
        for (int i = 0; cmd_known_settings[i]; i++) {
            char var[64] = "DINOSEEK_";
            for (size_t j = 0; cmd_known_settings[i][j] && j < 40; j++) {
                char c = cmd_known_settings[i][j];
                var[9 + j] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
            }
            unsetenv(var);
        }
        ready = 1;
    }
    if (size == 0 || size > 1 << 14)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    char msg[8192];
    memset(msg, 'x', sizeof msg);
    int rc = cmd_config_parse(f, PATH, cmd_known_settings, msg, sizeof msg);
    fclose(f);

    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    lines += data[size - 1] != '\n';
    if (rc != 0) {
        require(memchr(msg, '\0', sizeof msg) != NULL);
        size_t plen = strlen(PATH);
        require(strncmp(msg, PATH, plen) == 0 && msg[plen] == ':');
        char *end;
        long line = strtol(msg + plen + 1, &end, 10);
        require(end != msg + plen + 1 && line >= 1 && (size_t)line <= lines);
        require(end[0] == ':' && end[1] == ' ' && end[2] != '\0');
        return 0;
    }
    for (int i = 0; cmd_known_settings[i]; i++) {
        const char *v = cmd_setting(cmd_known_settings[i]);
        if (!v)
            continue;
        size_t n = strlen(v);
        require(n < 1024 && !strchr(v, '#') && !strchr(v, '\n'));
        require(n == 0 || (v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' && v[n - 1] != '\t' &&
                           v[n - 1] != '\r'));
        require(on_a_line(data, size, cmd_known_settings[i], v));
    }
    return 0;
}
