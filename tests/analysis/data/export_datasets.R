# Exports R survival's own datasets to CSV for the Python tests (which must not need R).
# Run from this folder:  Rscript export_datasets.R   (R 4.2.2, survival 3.5-3)
# Numbers are written with 17 significant digits so Python reads exactly the doubles R holds.
suppressMessages(library(survival))
exact <- function(d) {
  for (v in names(d)) {
    x <- d[[v]]
    if (is.factor(x)) d[[v]] <- as.character(x)
    else if (is.numeric(x)) d[[v]] <- ifelse(is.na(x), NA, sprintf("%.17g", x))
  }
  d
}
out <- function(d, file) write.csv(exact(d), file, row.names = FALSE, na = "", quote = FALSE)
out(mgus2, "mgus2.csv")
out(pbc, "pbc.csv")
h <- heart
h$transplant <- as.integer(as.character(h$transplant))
out(h, "heart.csv")
out(lung, "lung.csv")
