#!/usr/bin/env Rscript
# Reference values for the survival report, computed with R's `survival`.
#
# Usage (from this folder):  Rscript make_reference.R
# Inputs : cohorts/ties.csv, cohorts/three_groups.csv, cohorts/single.csv
#          (header time,event,group; event 1 = event, 0 = censored) and
#          ../../../data-sample/clinical.csv (cohort "data_sample_ebv":
#          time = pfs_months, event = pfs_event, group = ebv_status; rows with
#          any of the three empty are dropped).
# Outputs: at_risk.csv, km_summary.csv, logrank.csv (this folder).
#
# at_risk.csv: cohort,group,time,n_risk,n_event_cum,n_censor_cum,survival
#   One row per group and tick (ticks 0,12,24,36,48,60,72), taken from
#   summary(fit, times = ticks, extend = TRUE).
#   * n_risk   = summary's n.risk at the tick.
#   * n_event_cum / n_censor_cum are CUMULATIVE: summary's n.event and
#     n.censor are per interval (previous tick, tick] (the first tick's
#     interval is (-Inf, 0], i.e. it holds the time-0 events/censorings), so
#     they are summed with cumsum() per group.  They therefore count
#     observations with time <= tick.
#   * survival = KM S(tick), right-continuous (events AT the tick are
#     included), written with 15 significant digits.  After the last
#     observed time S is carried forward (extend = TRUE), and n_risk is 0.
#
# At-risk rule check: R's survfit counts as at risk at time t every subject
# with time >= t (so events AND censorings at exactly t are still at risk at
# t; for a tick between observed times, summary takes n.risk from the next
# observed time, which is the same count).  The script checks, for every
# row, n_risk == #{time >= tick}, n_event_cum == #{time <= tick, event==1},
# n_censor_cum == #{time <= tick, event==0}, and stops if any differs.
# It held for every row of every cohort (including ticks with tied
# events+censorings, time 0, and ticks beyond the last time, where both
# sides are 0).
#
# km_summary.csv: cohort,group,n,events,median,median_lower,median_upper
#   from summary(fit)$table (n = "records"; CI is survfit's default
#   conf.type = "log", conf.int = 0.95).  NA (not reached) written empty.
#
# logrank.csv: cohort,chisq,df,p from survdiff(Surv(time, event) ~ group)
#   (rho = 0, the log-rank test); df = number of groups - 1,
#   p = pchisq(chisq, df, lower.tail = FALSE).  Cohort "single" (one group)
#   is skipped.

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else getwd()
setwd(here)

ticks <- c(0, 12, 24, 36, 48, 60, 72)
g15 <- function(x) ifelse(is.na(x), "", sprintf("%.15g", x))

read_cohort <- function(path) {
  d <- read.csv(path, colClasses = c("numeric", "integer", "character"))
  stopifnot(identical(names(d), c("time", "event", "group")))
  d
}

clin <- read.csv("../../../data-sample/clinical.csv",
                 colClasses = "character", na.strings = character(0))
clin <- clin[clin$pfs_months != "" & clin$pfs_event != "" &
             clin$ebv_status != "", ]
ebv <- data.frame(time = as.numeric(clin$pfs_months),
                  event = as.integer(clin$pfs_event),
                  group = clin$ebv_status, stringsAsFactors = FALSE)

cohorts <- list(
  ties = read_cohort("cohorts/ties.csv"),
  three_groups = read_cohort("cohorts/three_groups.csv"),
  single = read_cohort("cohorts/single.csv"),
  data_sample_ebv = ebv
)

at_risk <- list(); km <- list(); lr <- list()

for (name in names(cohorts)) {
  d <- cohorts[[name]]
  d$group <- factor(d$group, levels = sort(unique(d$group)))
  fit <- survfit(Surv(time, event) ~ group, data = d)
  s <- summary(fit, times = ticks, extend = TRUE)
  grp <- if (is.null(s$strata)) rep(levels(d$group), length(s$time)) else
    sub("^group=", "", as.character(s$strata))
  stopifnot(all(table(grp) == length(ticks)))
  ev_cum <- ave(s$n.event, grp, FUN = cumsum)
  ce_cum <- ave(s$n.censor, grp, FUN = cumsum)
  # Check the at-risk / cumulative-count rules against direct counts.
  for (i in seq_along(s$time)) {
    dd <- d[d$group == grp[i], ]
    t <- s$time[i]
    exp_risk <- sum(dd$time >= t)
    exp_ev <- sum(dd$time <= t & dd$event == 1)
    exp_ce <- sum(dd$time <= t & dd$event == 0)
    if (s$n.risk[i] != exp_risk || ev_cum[i] != exp_ev || ce_cum[i] != exp_ce)
      stop(sprintf("%s/%s t=%g: n.risk %g vs %d, ev %g vs %d, cens %g vs %d",
                   name, grp[i], t, s$n.risk[i], exp_risk, ev_cum[i],
                   exp_ev, ce_cum[i], exp_ce))
  }
  at_risk[[name]] <- data.frame(
    cohort = name, group = grp, time = g15(s$time), n_risk = s$n.risk,
    n_event_cum = ev_cum, n_censor_cum = ce_cum, survival = g15(s$surv))

  tab <- summary(fit)$table
  if (is.null(dim(tab))) {
    tab <- matrix(tab, nrow = 1, dimnames = list(levels(d$group), names(tab)))
  }
  km[[name]] <- data.frame(
    cohort = name, group = sub("^group=", "", rownames(tab)),
    n = tab[, "records"], events = tab[, "events"],
    median = g15(tab[, "median"]), median_lower = g15(tab[, "0.95LCL"]),
    median_upper = g15(tab[, "0.95UCL"]))

  if (nlevels(d$group) > 1) {
    sd <- survdiff(Surv(time, event) ~ group, data = d)
    df <- length(sd$n) - 1
    lr[[name]] <- data.frame(cohort = name, chisq = g15(sd$chisq), df = df,
                             p = g15(pchisq(sd$chisq, df, lower.tail = FALSE)))
  }
}

wr <- function(x, f) {
  write.csv(do.call(rbind, x), f, row.names = FALSE, quote = FALSE)
  cat("wrote", f, "\n")
}
wr(at_risk, "at_risk.csv")
wr(km, "km_summary.csv")
wr(lr, "logrank.csv")
cat("R", as.character(getRversion()), "survival",
    as.character(packageVersion("survival")), "\n")
