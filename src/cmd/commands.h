/* commands.h - every `dinoseek <command>`; src/main.c holds the table. */
#ifndef DS_COMMANDS_H
#define DS_COMMANDS_H

/* Each returns the process exit status: 0 success, 1 failure, 2 bad usage.
 * argv[0] is the command's own name. */
int cmd_embed(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_uspto(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_sample(int argc, char **argv);

#endif
