// The aws-elbv2 inputs: target-groups and aws-targets, read and refused with one clear problem each.
import { describe, expect, it } from '@jest/globals'
import { getSettings, SettingsError } from '../../src/inputs/get-settings.js'
import { parseTargetLine } from '../../src/inputs/read-aws.js'
import { BASE_INPUTS, readerOf } from '../../test/fakes/fakes.js'

const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef'
const ARN2 = 'arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:targetgroup/api-v2/fedcba9876543210'
const AWS = {
  hosts: 'deploy@h1\ndeploy@h2:2222',
  'health-file': '',
  'load-balancer': 'aws-elbv2',
  'target-groups': `${ARN}\n${ARN2}`,
  'aws-targets': 'deploy@h1=i-0123456789abcdef0\ndeploy@h2:2222=10.0.0.2:8080'
}

function problemsOf(inputs: Record<string, string>): string[] {
  try {
    getSettings(readerOf({ ...BASE_INPUTS, ...AWS, ...inputs }))
  } catch (error: unknown) {
    if (error instanceof SettingsError) return [...error.problems]
    throw error
  }
  return []
}

describe('aws-elbv2 inputs', () => {
  it('reads the target groups and each host entry as written to its target', () => {
    const settings = getSettings(readerOf({ ...BASE_INPUTS, ...AWS }))
    expect(settings.loadBalancer.kind).toBe('aws-elbv2')
    expect(settings.loadBalancer.awsElbv2).toEqual({
      targetGroups: [ARN, ARN2],
      targets: new Map([
        ['deploy@h1', { id: 'i-0123456789abcdef0' }],
        ['deploy@h2:2222', { id: '10.0.0.2', port: 8080 }]
      ])
    })
  })

  it('parses instance ids, IPv4 and IPv6 (bracketed before a port)', () => {
    expect(parseTargetLine('web1=i-0abc1234')).toEqual(['web1', { id: 'i-0abc1234' }])
    expect(parseTargetLine('u@web1:22 = 10.1.2.3:80')).toEqual(['u@web1:22', { id: '10.1.2.3', port: 80 }])
    expect(parseTargetLine('web1=2001:db8::5')).toEqual(['web1', { id: '2001:db8::5' }])
    expect(parseTargetLine('web1=[2001:db8::5]:8443')).toEqual(['web1', { id: '2001:db8::5', port: 8443 }])
  })

  it.each([
    [
      'a malformed ARN',
      { 'target-groups': 'arn:aws:elasticloadbalancing:eu-west-1:123:targetgroup/web/xyz' },
      "target-groups 'arn:aws:elasticloadbalancing:eu-west-1:123:targetgroup/web/xyz': expected a target group ARN, arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID"
    ],
    [
      'a load balancer ARN for a target group',
      { 'target-groups': 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef' },
      expect.stringMatching(
        /^target-groups 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer\/app.*expected a target group ARN/
      )
    ],
    [
      'an ARN listed twice',
      { 'target-groups': `${ARN}\n${ARN}` },
      `target-groups '${ARN}': is listed twice; list each target group once`
    ],
    [
      'no target groups',
      { 'target-groups': '' },
      'target-groups: is required with load-balancer: aws-elbv2; expected one arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID per line'
    ],
    [
      'a host without a target',
      { 'aws-targets': 'deploy@h1=i-0123456789abcdef0' },
      'aws-targets: has no target for deploy@h2:2222; expected one ENTRY=ID[:PORT], ENTRY a hosts entry as written, ID an instance id (i-0abc…) or an IP address per host'
    ],
    [
      'an entry not written as in hosts',
      { 'aws-targets': 'deploy@h1=i-0123456789abcdef0\nh2=10.0.0.2:8080' },
      expect.stringMatching(/^aws-targets 'h2=10.0.0.2:8080': names no host: 'h2' is not a hosts entry as written/)
    ],
    [
      'a target that is neither an instance id nor an address',
      { 'aws-targets': 'deploy@h1=web-1\ndeploy@h2:2222=10.0.0.2:8080' },
      expect.stringMatching(
        /^aws-targets 'deploy@h1=web-1': 'web-1' is neither an instance id nor an IP address; expected ENTRY=ID\[:PORT\]/
      )
    ],
    [
      'a bad port',
      { 'aws-targets': 'deploy@h1=i-0123456789abcdef0\ndeploy@h2:2222=10.0.0.2:0' },
      expect.stringMatching(/^aws-targets 'deploy@h2:2222=10.0.0.2:0': invalid port '0' \(1-65535\)/)
    ],
    [
      'two hosts with one target',
      { 'aws-targets': 'deploy@h1=10.0.0.2:8080\ndeploy@h2:2222=10.0.0.2:8080' },
      "aws-targets 'deploy@h2:2222=10.0.0.2:8080': is also the target of deploy@h1; each host needs its own"
    ],
    [
      'the host-side health file',
      { 'health-file': '/srv/status.html' },
      "health-file '/srv/status.html': is not used with load-balancer: aws-elbv2, which tells the load balancer directly"
    ],
    [
      'a probe, which the API answers instead',
      { 'online-probe': 'true' },
      "online-probe 'true': is not used with load-balancer: aws-elbv2, which reads target health from the API"
    ]
  ])('refuses %s with one problem naming input, value and form', (_name, inputs, problem) => {
    expect(problemsOf(inputs)).toEqual([problem])
  })

  it('refuses the aws inputs with another kind', () => {
    expect(problemsOf({ 'load-balancer': 'health-file', 'health-file': '/srv/status.html' })).toEqual([
      `target-groups '${ARN}\n${ARN2}': is only used with load-balancer: aws-elbv2 (it is health-file)`,
      `aws-targets '${AWS['aws-targets']}': is only used with load-balancer: aws-elbv2 (it is health-file)`
    ])
  })
})
