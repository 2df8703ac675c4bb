# Reference Cox fits from R's survival package for npcql's cox_ph.
#
# Builds four cohorts of its own (whole-month times with many ties, NULL cells in time, event and
# covariates that SQL must skip, 1 to 7 covariates), writes them as cox_<name>.csv (an empty cell
# is NULL), reads them back and fits coxph(ties = "efron") with the default control on exactly
# what the files hold. It also fits the lifelines cohorts of make_reference.py (<name>.csv, x1 and
# x1 + x2) and the 100,000-row series of udfs/src/sql/survival_tests.rs. Every number is written
# with 17 significant digits to cox_r_reference.csv, read by tests/slt/cox_r.slt and
# udfs/src/survival/tests.rs.
#
#     apt-get install -y r-base-core r-cran-survival
#     Rscript tests/reference/survival/cox_reference.R      # from the repository root
#
# Written with R 4.2.2 and survival 3.5-3 (Debian 12).

suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script) == 1) dirname(normalizePath(script)) else "tests/reference/survival"

RNGversion("4.2.0")  # the generators below are fixed by R's default Mersenne-Twister / Inversion

# Blanks a share of the cells of some columns (NA; written as an empty cell).
with_nulls <- function(d, columns, share) {
  for (column in columns) {
    d[[column]][runif(nrow(d)) < share] <- NA
  }
  d
}

# 300 patients like the NPC cohort, six covariates, PFS in whole months capped at 60.
cohort_multi <- function() {
  set.seed(9001)
  n <- 300
  age <- round(rnorm(n, 48, 11))
  male <- rbinom(n, 1, 0.72)
  log_ebv <- round(rnorm(n, 3.2, 1.4), 2)
  volume <- round(exp(rnorm(n, 3.0, 0.7)), 1)
  t_stage <- sample(1:4, n, replace = TRUE, prob = c(0.15, 0.3, 0.35, 0.2))
  ldh <- round(rlnorm(n, log(190), 0.3))
  lp <- 0.02 * (age - 48) + 0.25 * male + 0.3 * (log_ebv - 3.2) + 0.4 * log(volume / 20) +
    0.2 * (t_stage - 2.5) + 0.002 * (ldh - 190)
  t_event <- rexp(n, 0.015 * exp(lp))
  t_censor <- pmin(runif(n, 12, 90), 60)
  d <- data.frame(
    time = ceiling(pmin(t_event, t_censor)),
    event = as.integer(t_event <= t_censor),
    age = age, male = male, log_ebv = log_ebv, volume = volume, t_stage = t_stage, ldh = ldh
  )
  with_nulls(d, names(d), 0.02)
}

# 150 rows whose times take only 6 values: every event time is heavily tied.
cohort_ties <- function() {
  set.seed(9002)
  n <- 150
  a <- round(rnorm(n), 3)
  b <- rbinom(n, 1, 0.4)
  c <- round(runif(n, 0, 10), 1)
  e <- round(rnorm(n, 0.5 * a, 1), 3)
  lp <- 0.5 * a - 0.6 * b + 0.08 * c + 0.3 * e
  t <- rexp(n, 0.2 * exp(lp))
  d <- data.frame(
    time = pmin(6, ceiling(t / 2)) * 6,
    event = as.integer(t < 12 & runif(n) < 0.8),
    a = a, b = b, c = c, e = e
  )
  with_nulls(d, c("time", "event", "a", "c", "e"), 0.03)
}

# 400 rows, about 80% censored, half-month times, seven covariates (two correlated).
cohort_censored <- function() {
  set.seed(9003)
  n <- 400
  x1 <- round(rnorm(n), 3)
  x2 <- round(0.6 * x1 + rnorm(n, 0, 0.8), 3)
  x3 <- rbinom(n, 1, 0.3)
  x4 <- round(rgamma(n, 2, 0.5), 2)
  x5 <- sample(0:3, n, replace = TRUE)
  x6 <- round(runif(n, -1, 1), 3)
  x7 <- round(rnorm(n, 100, 15))
  lp <- 0.4 * x1 + 0.2 * x2 - 0.5 * x3 + 0.1 * x4 + 0.15 * x5 + 0 * x6 + 0.01 * (x7 - 100)
  t_event <- rexp(n, 0.01 * exp(lp))
  t_censor <- runif(n, 1, 40)
  d <- data.frame(
    time = round(pmin(t_event, t_censor) * 2) / 2,
    event = as.integer(t_event <= t_censor),
    x1 = x1, x2 = x2, x3 = x3, x4 = x4, x5 = x5, x6 = x6, x7 = x7
  )
  with_nulls(d, names(d), 0.015)
}

# 90 rows, one covariate, whole-month ties.
cohort_uni <- function() {
  set.seed(9004)
  n <- 90
  x <- round(rnorm(n, 2, 1.5), 2)
  t <- rexp(n, 0.05 * exp(0.35 * x))
  d <- data.frame(time = ceiling(pmin(t, 36)), event = as.integer(t < 36 & runif(n) < 0.75), x = x)
  with_nulls(d, names(d), 0.04)
}

cohorts <- list(multi = cohort_multi, ties = cohort_ties, censored = cohort_censored, uni = cohort_uni)

g17 <- function(v) sprintf("%.17g", v)

rows <- list()
gap <- c()

# One model's numbers as R reports them (summary.coxph), with 17 significant digits.
numbers <- function(cohort, model, control, fit) {
  s <- summary(fit)
  k <- s$coefficients
  ci <- s$conf.int
  data.frame(
    cohort = cohort, model = model, control = control, term = rownames(k),
    coef = g17(k[, "coef"]), hr = g17(k[, "exp(coef)"]), se = g17(k[, "se(coef)"]),
    z = g17(k[, "z"]), p = g17(k[, "Pr(>|z|)"]),
    hr_lower = g17(ci[, "lower .95"]), hr_upper = g17(ci[, "upper .95"]),
    log_likelihood = g17(fit$loglik[2]), n = fit$n, events = fit$nevent, iterations = fit$iter,
    stringsAsFactors = FALSE
  )
}

# Fits one model twice: with coxph's default control (eps = 1e-9 on the relative log-likelihood
# change, the numbers R users see) and iterated to machine precision (eps = 1e-14: the maximum).
fit_rows <- function(cohort, model, formula, data) {
  default <- coxph(formula, data = data, ties = "efron")
  converged <- coxph(formula, data = data, ties = "efron",
                     control = coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 200))
  a <- summary(default)$coefficients[, c(1, 3, 4, 5), drop = FALSE]
  b <- summary(converged)$coefficients[, c(1, 3, 4, 5), drop = FALSE]
  gap[paste(cohort, model)] <<- max(ifelse(a == b, 0, abs(a / b - 1)))
  rbind(numbers(cohort, model, "default", default), numbers(cohort, model, "eps=1e-14", converged))
}

for (name in names(cohorts)) {
  path <- file.path(here, sprintf("cox_%s.csv", name))
  write.csv(cohorts[[name]](), path, row.names = FALSE, na = "")
  d <- read.csv(path)  # fit exactly what the file holds
  covariates <- setdiff(names(d), c("time", "event"))
  formula <- as.formula(paste("Surv(time, event) ~", paste(covariates, collapse = " + ")))
  rows[[length(rows) + 1]] <- fit_rows(name, paste(covariates, collapse = "+"), formula, d)
}

# The lifelines cohorts of make_reference.py.
for (name in c("tied", "heavy_censoring", "no_event_group", "single_row_group", "halves", "realistic")) {
  d <- read.csv(file.path(here, sprintf("%s.csv", name)))
  rows[[length(rows) + 1]] <- fit_rows(name, "x1", Surv(time, event) ~ x1, d)
  rows[[length(rows) + 1]] <- fit_rows(name, "x1+x2", Surv(time, event) ~ x1 + x2, d)
}

# The 100,000-row series of hundred_thousand_rows_through_sql (generate_series(1, 100000)).
value <- as.numeric(1:100000)
r <- (value * 7919) %% 600
series <- data.frame(t = ceiling(r / 10), e = as.integer(value %% 3 != 0), x = r / -100 + value %% 7)
rows[[length(rows) + 1]] <- fit_rows("series_100k", "x", Surv(t, e) ~ x, series)

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "cox_r_reference.csv"), row.names = FALSE, quote = FALSE)

cat(sprintf("R %s, survival %s\n", getRversion(), packageVersion("survival")))
cat("largest relative difference of coef, se, z or p between the default stop and eps = 1e-14:\n")
print(signif(gap, 3))
