/** Environment switches: unset, empty, `0`, `false`, `no` and `off` mean no (`CI=false` is not CI). */
export function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && !/^(0|false|no|off)$/i.test(value);
}
