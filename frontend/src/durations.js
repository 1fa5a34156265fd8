// ISO 8601 durations as the centre reads them: "P7D" with the working calendar is "7 个工作日".
// Mirrors what app/workdays.py accepts: weeks, days, hours and minutes ("P1W2DT4H"), or months alone ("P3M").

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/;
const MONTHS = /^P(\d+)M$/;

export function explainDuration(text, working, language) {
  const trimmed = (text || '').trim().toUpperCase();
  const monthly = MONTHS.exec(trimmed);
  if (monthly) {
    if (working) {
      return { ok: false, text: language === 'en' ? 'month limits count calendar months: choose the calendar'
        : '按月计的时限只能按自然日历计算：请把计时方式设为“自然日”' };
    }
    return { ok: true, text: language === 'en' ? `${monthly[1]} month(s)` : `${monthly[1]} 个月` };
  }
  const match = DURATION.exec(trimmed);
  if (!match || trimmed === 'P' || trimmed.endsWith('T')) {
    return { ok: false, text: language === 'en' ? 'not an ISO 8601 duration such as P7D or PT4H'
      : '不是 ISO 8601 时长（例如 P7D 表示 7 天，PT4H 表示 4 小时）' };
  }
  const [weeks, plainDays, hours, minutes] = match.slice(1).map((part) => Number(part || 0));
  const days = weeks * 7 + plainDays; // the calendar counts a week as seven days of its kind
  const zh = [];
  const en = [];
  if (days) {
    zh.push(working ? `${days} 个工作日` : `${days} 天（自然日）`);
    en.push(working ? `${days} working day(s)` : `${days} calendar day(s)`);
  }
  if (hours) { zh.push(`${hours} 小时`); en.push(`${hours} hour(s)`); }
  if (minutes) { zh.push(`${minutes} 分钟`); en.push(`${minutes} minute(s)`); }
  if (!zh.length) {
    return { ok: false, text: language === 'en' ? 'a limit of zero' : '时限为零' };
  }
  return { ok: true, text: language === 'en' ? en.join(' ') : zh.join(' ') };
}
