# Reference values of R's p.adjust for npcql's p_adjust window function.
#
# Every vector below is adjusted by every method of p.adjust.methods (and the alias "fdr"), and
# each input and result is written with 17 significant digits to cases.csv, one row per value:
# case, method, index (1-based position in the vector), p, adjusted. An empty cell is NA (SQL
# NULL). Read by udfs/src/stats/p_adjust.rs's tests.
#
#     apt-get install -y r-base-core
#     Rscript tests/reference/p_adjust/make_reference.R      # from the repository root
#
# Written with R 4.2.2 (Debian 12).

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(script) == 1) dirname(normalizePath(script)) else "tests/reference/p_adjust"

RNGversion("4.2.0")
set.seed(20261204)
# 200 p-values like a radiomics feature screen: a few strong signals among uniform nulls, with
# values repeated (rounded to 3 decimals) so ties occur across the whole range.
screen <- c(round(runif(180), 3), signif(rbeta(20, 0.3, 6), 4))

cases <- list(
  simple = c(0.01, 0.02, 0.03, 0.04, 0.05),
  unsorted = c(0.04, 0.001, 0.3, 0.012, 0.9, 0.02, 0.5),
  ties = c(0.02, 0.01, 0.02, 0.04, 0.01, 0.02, 0.5, 0.04),
  nulls = c(0.03, NA, 0.002, NA, 0.04, 0.2, NA),
  zeros_and_ones = c(0, 1, 0.5, 0, 1, 0.001, 0.9),
  single = c(0.03),
  single_with_null = c(NA, 0.7, NA),
  two = c(0.03, 0.01),
  all_null = c(NA_real_, NA_real_),
  large = c(0.9, 0.8, 0.95, 0.7, 0.99, 1),
  screen_200 = screen
)
methods <- c(p.adjust.methods, "fdr")

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
rows <- list()
for (name in names(cases)) {
  p <- cases[[name]]
  for (method in methods) {
    adjusted <- p.adjust(p, method)
    rows[[length(rows) + 1]] <- data.frame(
      case = name, method = method, index = seq_along(p), p = fmt(p), adjusted = fmt(adjusted)
    )
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(here, "cases.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("%s: %d rows\n", file.path(here, "cases.csv"), nrow(out)))
