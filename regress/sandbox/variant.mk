# Read after GNUmakefile (make -f GNUmakefile -f regress/sandbox/variant.mk):
# the daemon built again into a directory of its own with other flags,
# for regress/sandbox/*.t, without touching the main build.
#
#	VDIR		where the objects and VDIR/scam-back/scam-back go
#	VFLAGS		extra preprocessor flags (-DSANDBOX_TEST ...)
#	VSRCS		extra sources (the test hooks)
#	VLDFLAGS	extra link flags (--wrap for the test hooks)
#
# SANDBOX_DEBUG=1 and SANITIZE=1 work as for the main build.

VDIR ?=		regress/sandbox/obj
VFLAGS ?=
VSRCS ?=
VLDFLAGS ?=
V_OBJS =	$(patsubst %.c,$(VDIR)/%.o,$(SB_MAIN) $(SB_SRCS) \
		    $(COMPAT_SRCS) $(VSRCS))

$(VDIR)/scam-back/scam-back: $(V_OBJS)
	$(CC) $(LDFLAGS) $(VLDFLAGS) -o $@ $^ $(LDLIBS)

$(VDIR)/%.o: %.c $(HDRS) $(wildcard regress/sandbox/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(VFLAGS) $(CFLAGS) -c -o $@ $<
