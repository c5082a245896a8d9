/*
 * CEditLine: non-variadic wrappers over libedit's native API (histedit.h).
 *
 * Swift cannot call C variadic functions (el_set, el_get, history) and, in
 * Swift 6 mode, cannot touch the C globals stdin/stdout/stderr. Everything
 * of that kind lives here; the rest of histedit.h (el_gets, el_line,
 * el_insertstr, el_deletestr, el_reset, el_end, history_init, history_end)
 * is called from Swift directly.
 */
#ifndef CEDITLINE_H
#define CEDITLINE_H

#include <histedit.h>

/* The prompt callback and the editor-command callback (EL_ADDFN). */
typedef char *_Nullable (*ceditline_prompt_fn)(EditLine *_Nonnull el);
typedef unsigned char (*ceditline_command_fn)(EditLine *_Nonnull el, int key);

/* Locale and terminals. */

/* setlocale(LC_CTYPE, ""), falling back to "C.UTF-8" when that gives the
   C locale; without a UTF-8 locale libedit drops every non-ASCII byte. */
void ceditline_setup_locale(void);
/* Writes to stdout (the editor's output) or stderr, then flushes. */
void ceditline_print(const char *_Nonnull text);
void ceditline_print_error(const char *_Nonnull text);

/* The editor. */

/* el_init(program, stdin, stdout, stderr). */
EditLine *_Nullable ceditline_init(const char *_Nonnull program);
/* el_gets, also reporting errno (EINTR after Ctrl-C) through *error. */
const char *_Nullable ceditline_gets(EditLine *_Nonnull el, int *_Nonnull count,
                                     int *_Nonnull error);
int ceditline_set_client_data(EditLine *_Nonnull el, void *_Nullable data);
void *_Nullable ceditline_client_data(EditLine *_Nonnull el);
/* EL_PROMPT_ESC: characters between two `escape` chars are printed but not
   counted as columns (for colour sequences). */
int ceditline_set_prompt(EditLine *_Nonnull el, ceditline_prompt_fn _Nonnull fn,
                         char escape);
/* EL_EDITOR: "emacs" or "vi". */
int ceditline_set_editor(EditLine *_Nonnull el, const char *_Nonnull mode);
/* EL_SIGNAL: let libedit restore the tty on signals and redraw on SIGWINCH. */
int ceditline_set_signal(EditLine *_Nonnull el, int on);
/* EL_HIST with the narrow history() function. */
int ceditline_set_history(EditLine *_Nonnull el, History *_Nonnull h);
/* The terminal's width in columns (EL_GETTC "co"), or 80 when unknown. */
int ceditline_columns(EditLine *_Nonnull el);
/* EL_ADDFN: a named editor command that keys can be bound to. */
int ceditline_add_function(EditLine *_Nonnull el, const char *_Nonnull name,
                           const char *_Nonnull help,
                           ceditline_command_fn _Nonnull fn);
/* EL_BIND key command, e.g. ("^I", "my-complete"). */
int ceditline_bind(EditLine *_Nonnull el, const char *_Nonnull key,
                   const char *_Nonnull command);
/* el_source(el, NULL): reads $EDITRC or ~/.editrc when present. */
int ceditline_source_editrc(EditLine *_Nonnull el);

/* History (each returns -1 on failure). */

int ceditline_history_set_size(History *_Nonnull h, int size);
/* Drop an entry equal to the one just before it. */
int ceditline_history_set_unique(History *_Nonnull h, int on);
int ceditline_history_enter(History *_Nonnull h, const char *_Nonnull line);
/* Fails on files without libedit's "_HiStOrY_V2_" first line. */
int ceditline_history_load(History *_Nonnull h, const char *_Nonnull path);
/* Rewrites the whole file (mode 0600). */
int ceditline_history_save(History *_Nonnull h, const char *_Nonnull path);
/* Appends the newest entry to an existing, non-empty history file, encoded
   as ceditline_history_save writes it. */
int ceditline_history_append_newest(History *_Nonnull h, const char *_Nonnull path);
/* The newest entry, or NULL when the history is empty. */
const char *_Nullable ceditline_history_newest(History *_Nonnull h);

/* Ctrl-C. */

/* Installs a SIGINT handler (sigaction, without SA_RESTART, so that a
   blocked read returns EINTR) that only sets a flag. Idempotent. */
void ceditline_install_interrupt_handler(void);
/* Returns 1 and clears the flag if SIGINT arrived since the last take. */
int ceditline_take_interrupt(void);
/* How many SIGINTs arrived since the handler was installed (never cleared). */
int ceditline_interrupt_count(void);

/* Reads keys so that a Ctrl-C between two keys is never lost (see CEditLine.c). */
int ceditline_set_reader(EditLine *_Nonnull el);

#endif
