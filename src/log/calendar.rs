//! Days and dates, for the log's timestamps and a certificate's validity:
//! Howard Hinnant's `civil_from_days` and `days_from_civil`
//! (<https://howardhinnant.github.io/date_algorithms.html>), in the proleptic
//! Gregorian calendar. std has no calendar, and these few lines are all that
//! is needed of one.

/// The (year, month, day) of the `days`-th day after 1970-01-01.
pub fn civil_date(days: u64) -> (u64, u64, u64) {
    // Counted from 0000-03-01, so that a leap day is the last day of a year.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// How many days `year-month-day` is after 1970-01-01 (negative before it),
/// for a year from 0 on.
pub(crate) fn days_since_1970(year: i64, month: i64, day: i64) -> i64 {
    // Counted from 0000-03-01, as in `civil_date`.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // Checked with Python's datetime.
        let dates = [
            (0, (1970, 1, 1)),
            (10_957, (2000, 1, 1)),
            (11_016, (2000, 2, 29)),
            (47_540, (2100, 2, 28)),
            (47_541, (2100, 3, 1)),
            (19_782, (2024, 2, 29)),
            (20_818, (2026, 12, 31)),
        ];
        for (days, (year, month, day)) in dates {
            assert_eq!(civil_date(days), (year, month, day), "{days}");
            assert_eq!(
                days_since_1970(year as i64, month as i64, day as i64),
                days as i64
            );
        }
        assert_eq!(days_since_1970(1969, 12, 31), -1);
        assert_eq!(days_since_1970(1950, 1, 1), -7305);
    }

    #[test]
    fn the_two_agree_on_every_day_of_four_centuries() {
        for days in 0..146_097 {
            let (year, month, day) = civil_date(days);
            assert_eq!(
                days_since_1970(year as i64, month as i64, day as i64),
                days as i64
            );
        }
    }
}
