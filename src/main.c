/* main.c - `dinoseek <command> [args]`: the command table, in one place.
 *
 * Each command lives in src/cmd/<name>.c, takes (argc, argv) with argv[0] its
 * own name, answers --help, prints errors to stderr and returns the exit
 * status. Nothing else in the program ends the process.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"

#ifndef DS_VERSION
#define DS_VERSION "unknown"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"serve", cmd_serve, "serve the JSON API on embedded defaults"},
    {"search", cmd_search, "the most similar stored images to an image, as JSON"},
    {"add", cmd_add, "add images to a collection"},
    {"stats", cmd_stats, "statistics of a collection"},
    {"embed", cmd_embed, "print the DINOv2 vector of each image as a JSON line"},
    {"model", cmd_model, "generate, download and describe model weights"},
    {"sample", cmd_sample, "generate a synthetic week of USPTO design patents (XML, G4 TIFFs, tar)"},
    {"import", cmd_import, "import USPTO design grants (XML, TIFF, weekly archives) and image folders"},
    {"uspto", cmd_uspto, "read USPTO grant XML: the design patents as JSON lines"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: dinoseek <command> [options]   (dinoseek <command> --help)\n\n"
                 "Reverse image search for design patents.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n  --version  print the version\n  --help     this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("dinoseek %s\n", DS_VERSION);
        return 0;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dinoseek: unknown command '%s' (see dinoseek --help)\n", name);
    return 2;
}
